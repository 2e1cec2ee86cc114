using Atr.Server.Cli;

return await AtrCommandLine.RunAsync(args).ConfigureAwait(false);
