// StepwiseCLI
