using System.ComponentModel;
using System.Diagnostics;

namespace Atr.Bench.Targets;

/// <summary>A command that prints something and ends at once (<c>getconf</c>, <c>uname</c>, <c>git</c>…).</summary>
internal static class ShortProcess
{
    /// <summary>What <paramref name="fileName"/> printed on stdout, trimmed; null if it could not start or exited with an error.</summary>
    public static string? Output(string fileName, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(fileName, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            // Stderr is drained and dropped, so a chatty command cannot fill its pipe and stall.
            process.ErrorDataReceived += static (_, _) => { };
            process.BeginErrorReadLine();
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (Win32Exception)
        {
            // Not installed.
            return null;
        }
    }
}
