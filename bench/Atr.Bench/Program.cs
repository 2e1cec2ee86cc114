using Atr.Bench.Cli;

return await BenchCommandLine.InvokeAsync(args);
