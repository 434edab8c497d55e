"""大厅仿真: discrete-event simulation of a hall driving the real routing policies."""
