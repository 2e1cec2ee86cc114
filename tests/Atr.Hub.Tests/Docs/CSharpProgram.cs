using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Atr.Hub.Tests.Docs;

/// <summary>
/// A C# code block compiled as a user's web project compiles <c>Program.cs</c> — top-level
/// statements, the Web SDK's implicit usings, nullable on — against every assembly this test process
/// can load, then loaded and run in-process.
/// </summary>
internal static class CSharpProgram
{
    /// <summary>The implicit usings of a project on <c>Microsoft.NET.Sdk.Web</c> (Sdk.Server.props and Microsoft.NET.Sdk.CSharp.props).</summary>
    private static readonly string[] WebImplicitUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks",
        "System.Net.Http.Json", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Http",
        "Microsoft.AspNetCore.Routing", "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection",
        "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging",
    ];

    // The shared frameworks (.NET, ASP.NET Core) and every package of the tests' deps.json: Atr.*,
    // EF Core and SQLite, the SignalR client, StackExchange.Redis.
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(path => MetadataReference.CreateFromFile(path))]);

    private static int _count;

    /// <summary>
    /// Compiles <paramref name="source"/> and loads it; throws with every error, each at its line in
    /// the markdown file (<paramref name="firstLine"/> is the line of the block's first line of code).
    /// </summary>
    public static MethodInfo Compile(string source, string file, int firstLine)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var usings = CSharpSyntaxTree.ParseText(string.Concat(WebImplicitUsings.Select(u => $"global using global::{u};\n")), parse, "GlobalUsings.g.cs");
        var program = CSharpSyntaxTree.ParseText(source, parse, file);
        var compilation = CSharpCompilation.Create(
            $"Snippet{Interlocked.Increment(ref _count)}",
            [usings, program],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));

        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Does not compile:\n" + string.Join('\n', errors.Select(error =>
                $"{file}:{firstLine + error.Location.GetLineSpan().StartLinePosition.Line}: {error.Id} {error.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}")));
        }

        // Top-level statements with await compile to an async <Main>$ and a synchronous wrapper,
        // the assembly's entry point, that blocks on it: call <Main>$ itself and await its task.
        var main = compilation.GetEntryPoint(CancellationToken.None)!;
        var assembly = Assembly.Load(image.ToArray());
        return assembly.GetType(main.ContainingType.MetadataName, throwOnError: true)!
            .GetMethod(main.MetadataName, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!;
    }

    /// <summary>Runs a compiled program to its end, failing after <paramref name="timeout"/>.</summary>
    public static async Task RunAsync(MethodInfo main, TimeSpan timeout)
    {
        object? result;
        try
        {
            result = main.Invoke(null, main.GetParameters().Length == 1 ? [Array.Empty<string>()] : []);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }

        if (result is Task task)
        {
            await task.WaitAsync(timeout);
        }
    }
}
