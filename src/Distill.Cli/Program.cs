using Distill.Cli;

Interrupt.Install();
return CliRunner.Run(args);
