"""三级 network: 流转 of a case's paper file between a receiving point and the handling department."""
