using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atr.Server.Demo;

/// <summary>
/// <c>atr-server start --demo</c>: a page at <c>/demo/</c> that listens to a scope with the browser
/// bundle of <c>Atr.Client.Js</c>, shows events as toasts, and publishes through <c>POST /publish</c>.
/// </summary>
internal static class DemoEndpoints
{
    private const string BundleFolder = "Atr.Client.Js/dist/browser";

    public static void Map(IEndpointRouteBuilder endpoints, string? assetsFolder)
    {
        var folder = assetsFolder ?? FindBundleFolder();
        // Routing matches /demo and /demo/ alike.
        endpoints.MapGet("/demo", () =>
        {
            using var page = typeof(DemoEndpoints).Assembly.GetManifestResourceStream("Atr.Server.Demo.index.html")!;
            using var reader = new StreamReader(page);
            return Results.Content(reader.ReadToEnd(), "text/html; charset=utf-8");
        });

        foreach (var (file, type) in new[] { ("atr-client.js", "text/javascript"), ("atr-client.mjs", "text/javascript") })
        {
            endpoints.MapGet($"/demo/{file}", () => folder is not null && File.Exists(Path.Combine(folder, file))
                ? Results.File(Path.Combine(folder, file), $"{type}; charset=utf-8")
                : Results.Text($"The browser bundle is not built: run `npm ci && npm run build -w Atr.Client.Js`, or point Atr:DemoAssets at its dist/browser folder.", statusCode: StatusCodes.Status404NotFound));
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
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
