using Atr.Hub.Cli;

return await AtrCommandLine.RunAsync(args).ConfigureAwait(false);
