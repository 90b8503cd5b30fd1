using Distill.Cli;

return DistillCommand.Create().Parse(args).Invoke();
