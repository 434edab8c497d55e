"""整改: the one rectification work order shared by 差评, unsatisfied callbacks (回访), experiencer reports and
complaints escalated to the center."""
