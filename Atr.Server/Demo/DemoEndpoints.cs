using Atr.Server.Cli;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atr.Server.Demo;

/// <summary>
/// <c>atr-server start --demo</c>: a page at <c>/demo/</c> that listens to a scope with the browser
/// bundle of <c>Atr.Client.Js</c>, shows its events and refusals, and publishes through <c>POST /publish</c>.
/// </summary>
internal static class DemoEndpoints
{
    private const string BundleFolder = "Atr.Client.Js/dist/browser";
    private const string BuildCommand = "npm ci && npm run build -w Atr.Client.Js";
    private static readonly string[] BundleFiles = ["atr-client.js", "atr-client.mjs"];

    /// <summary>The folder that holds the browser bundle: <paramref name="assetsFolder"/>, or the build output found above the working directory or the executable.</summary>
    /// <exception cref="CommandLineException">The bundle is not there: without it the page cannot connect.</exception>
    public static string RequireBundle(string? assetsFolder)
    {
        if (assetsFolder is not null)
        {
            var missing = BundleFiles.Where(file => !File.Exists(Path.Combine(assetsFolder, file))).ToArray();
            return missing.Length == 0
                ? assetsFolder
                : throw new CommandLineException(
                    $"--demo needs the browser bundle of Atr.Client.Js, and Atr:DemoAssets ({assetsFolder}) holds no {string.Join(" or ", missing)}: " +
                    $"build it with `{BuildCommand}` at the repository's root, or point Atr:DemoAssets at the built Atr.Client.Js/dist/browser.");
        }

        return FindBundleFolder() ?? throw new CommandLineException(
            $"--demo needs the browser bundle of Atr.Client.Js, and no built {BundleFolder} was found above {Directory.GetCurrentDirectory()}: " +
            $"build it with `{BuildCommand}` at the repository's root, or point Atr:DemoAssets at a folder that holds {string.Join(" and ", BundleFiles)}.");
    }

    /// <summary>Maps the page and the bundle of <paramref name="bundleFolder"/>, which <see cref="RequireBundle"/> found.</summary>
    public static void Map(IEndpointRouteBuilder endpoints, string bundleFolder)
    {
        // Routing matches /demo and /demo/ alike.
        endpoints.MapGet("/demo", () =>
        {
            using var page = typeof(DemoEndpoints).Assembly.GetManifestResourceStream("Atr.Server.Demo.index.html")!;
            using var reader = new StreamReader(page);
            return Results.Content(reader.ReadToEnd(), "text/html; charset=utf-8");
        });

        foreach (var file in BundleFiles)
        {
            var path = Path.Combine(bundleFolder, file);

            // Checked at start; a rebuild under way (the build empties dist first) can take it away meanwhile.
            endpoints.MapGet($"/demo/{file}", () => File.Exists(path)
                ? Results.File(path, "text/javascript; charset=utf-8")
                : Results.Text($"{path} is gone: rebuild it with `{BuildCommand}`.", statusCode: StatusCodes.Status404NotFound));
        }
    }

    /// <summary>Atr.Client.Js's build output, looked for above the working directory and the executable.</summary>
    private static string? FindBundleFolder()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, BundleFolder);
                if (BundleFiles.All(file => File.Exists(Path.Combine(candidate, file))))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
