using System.Reflection;

namespace Atr.Publishing;

/// <summary>
/// Every event name this application publishes (the original's <c>Atr::Registry.channels</c>), so
/// that clients know what to listen for. Publishers announce it to Redis; hub nodes serve the
/// union of every announcement as <c>GET /channels</c>.
/// </summary>
/// <remarks>
/// Each <see cref="PublishableAttribute"/> model contributes <c>.updated</c>, <c>.created</c> and
/// <c>.destroyed</c>: at start from <see cref="AtrPublishingOptions.ModelAssemblies"/>, and from
/// every Entity Framework Core model the first time one of its contexts saves. Names added by hand
/// (<see cref="Add"/>, <see cref="AtrPublishingOptions.Channels"/>) join them.
/// </remarks>
public sealed class EventRegistry
{
    private readonly Lock _lock = new();
    private readonly SortedSet<string> _names = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string[] _snapshot = [];
    private long _version;

    /// <summary>The names, sorted ordinally.</summary>
    public IReadOnlyList<string> Channels => Volatile.Read(ref _snapshot);

    /// <summary>Grows by one with every change; what an announcer compares.</summary>
    internal long Version => Interlocked.Read(ref _version);

    /// <summary>Adds an event name such as <c>post.published</c>.</summary>
    /// <param name="name">The event name.</param>
    /// <returns><see langword="true"/> when it was not there yet.</returns>
    /// <exception cref="ArgumentException">The name is not a valid event name.</exception>
    public bool Add(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        RoutingKeys.ThrowIfInvalidName(name, nameof(name));
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (!_names.Add(name))
            {
                return false;
            }

            _snapshot = [.. _names];
            Interlocked.Increment(ref _version);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        return true;
    }

    /// <summary>Adds a model's three event names (<c>post.updated</c>, <c>post.created</c>, <c>post.destroyed</c>).</summary>
    /// <param name="modelType">The model type.</param>
    public void AddModel(Type modelType)
    {
        foreach (var name in ModelNames.EventNames(modelType))
        {
            Add(name);
        }
    }

    /// <summary>Adds every <see cref="PublishableAttribute"/> type of an assembly.</summary>
    /// <param name="assembly">The assembly to scan.</param>
    public void AddModels(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        Type?[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            types = ex.Types;
        }

        foreach (var type in types)
        {
            if (type is { IsClass: true, IsAbstract: false } && ModelNames.IsPublishable(type))
            {
                AddModel(type);
            }
        }
    }

    /// <summary>Completes when the registry changes after <paramref name="version"/>.</summary>
    internal Task WaitForChangeAsync(long version, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return version != _version ? Task.CompletedTask : _changed.Task.WaitAsync(cancellationToken);
        }
    }
}
