using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;

namespace Atr.Publishing;

/// <summary>
/// The naming rules for models, mirroring the original's <c>Publishable</c>: a <c>Post</c> model
/// publishes <c>post.created</c>, a <c>BlogPost</c> <c>blog_post.created</c> (or the name its
/// <see cref="PublishableAttribute"/> gives); its <see cref="PublicationScopeAttribute"/> gives the scope.
/// </summary>
public static class ModelNames
{
    private static readonly ConcurrentDictionary<Type, ModelDescriptor> Descriptors = new();
    private static readonly ConcurrentDictionary<Type, bool> Publishable = new();

    /// <summary>The event name prefix of a model type: <see cref="PublishableAttribute.Name"/>, or the type name in snake case (<c>BlogPost</c> gives <c>blog_post</c>).</summary>
    /// <param name="modelType">The model type.</param>
    /// <returns>The prefix.</returns>
    public static string EventPrefix(Type modelType) => Describe(modelType).EventPrefix;

    /// <summary>The event name of an action on a model type: <c>blog_post.created</c>.</summary>
    /// <param name="modelType">The model type.</param>
    /// <param name="action">The action.</param>
    /// <returns>The event name.</returns>
    public static string EventName(Type modelType, ModelAction action) => Describe(modelType).EventName(action);

    /// <summary>The three event names of a model type, in the original registry's order: updated, created, destroyed.</summary>
    /// <param name="modelType">The model type.</param>
    /// <returns><c>post.updated</c>, <c>post.created</c>, <c>post.destroyed</c>.</returns>
    public static IReadOnlyList<string> EventNames(Type modelType)
    {
        var descriptor = Describe(modelType);
        return [descriptor.EventName(ModelAction.Updated), descriptor.EventName(ModelAction.Created), descriptor.EventName(ModelAction.Destroyed)];
    }

    /// <summary>Whether a type is marked with <see cref="PublishableAttribute"/>.</summary>
    /// <param name="modelType">The type.</param>
    /// <returns><see langword="true"/> when its changes are published.</returns>
    public static bool IsPublishable(Type modelType)
    {
        ArgumentNullException.ThrowIfNull(modelType);
        return Publishable.GetOrAdd(modelType, static type => type.IsDefined(typeof(PublishableAttribute), inherit: true));
    }

    /// <summary>The action's name as it ends an event name: <c>created</c>, <c>updated</c>, <c>destroyed</c>.</summary>
    /// <param name="action">The action.</param>
    /// <returns>The lowercase action name.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="action"/> is not defined.</exception>
    public static string ActionName(ModelAction action) => action switch
    {
        ModelAction.Created => "created",
        ModelAction.Updated => "updated",
        ModelAction.Destroyed => "destroyed",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Unknown model action."),
    };

    /// <summary>The scope a model instance publishes to, from its <see cref="PublicationScopeAttribute"/>.</summary>
    /// <param name="model">The model instance.</param>
    /// <returns>The scope key (<c>organization.1234</c>), or empty when the model declares no scope.</returns>
    /// <exception cref="InvalidOperationException">A scoping property is missing, null, or not a valid scope segment.</exception>
    public static string ScopeOf(object model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Describe(model.GetType()).ScopeOf(model);
    }

    /// <summary>The scope type a property name gives: <c>OrganizationId</c> and <c>organization_id</c> give <c>organization</c>.</summary>
    /// <param name="propertyName">The property name.</param>
    /// <returns>The snake-case scope type.</returns>
    public static string ScopeType(string propertyName)
    {
        ArgumentException.ThrowIfNullOrEmpty(propertyName);
        var snake = ToSnakeCase(propertyName);
        return snake.EndsWith("_id", StringComparison.Ordinal) && snake.Length > 3 ? snake[..^3] : snake;
    }

    internal static string ToSnakeCase(string name)
    {
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return JsonNamingPolicy.SnakeCaseLower.ConvertName(tick < 0 ? name : name[..tick]);
    }

    private static ModelDescriptor Describe(Type modelType)
    {
        ArgumentNullException.ThrowIfNull(modelType);
        return Descriptors.GetOrAdd(modelType, static type => new ModelDescriptor(type));
    }

    private sealed class ModelDescriptor
    {
        private readonly string[] _eventNames;
        private readonly (string Type, PropertyInfo Property)[] _scopes;

        public ModelDescriptor(Type type)
        {
            var publishable = type.GetCustomAttribute<PublishableAttribute>(inherit: true);
            EventPrefix = publishable?.Name ?? ToSnakeCase(type.Name);
            if (!RoutingKeys.IsValidName(EventPrefix + ".created"))
            {
                throw new InvalidOperationException(
                    $"[Publishable(Name = \"{publishable?.Name}\")] on {type.Name} is not a valid event name prefix: dot-separated segments of [A-Za-z0-9_-].");
            }

            _eventNames = [$"{EventPrefix}.created", $"{EventPrefix}.updated", $"{EventPrefix}.destroyed"];

            var declared = type.GetCustomAttribute<PublicationScopeAttribute>(inherit: true)?.Properties ?? [];
            _scopes = new (string, PropertyInfo)[declared.Count];
            for (var i = 0; i < declared.Count; i++)
            {
                var property = type.GetProperty(declared[i], BindingFlags.Public | BindingFlags.Instance)
                    ?? throw new InvalidOperationException(
                        $"[PublicationScope] on {type.Name} names '{declared[i]}', which is not a public instance property of it.");
                _scopes[i] = (ScopeType(property.Name), property);
            }
        }

        public string EventPrefix { get; }

        public string EventName(ModelAction action) => action switch
        {
            ModelAction.Created => _eventNames[0],
            ModelAction.Updated => _eventNames[1],
            ModelAction.Destroyed => _eventNames[2],
            _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Unknown model action."),
        };

        public string ScopeOf(object model)
        {
            if (_scopes.Length == 0)
            {
                return string.Empty;
            }

            var pairs = new (string, object?)[_scopes.Length];
            for (var i = 0; i < _scopes.Length; i++)
            {
                var (scopeType, property) = _scopes[i];
                var value = property.GetValue(model)
                    ?? throw new InvalidOperationException(
                        $"{model.GetType().Name}.{property.Name} is null, so its event has no '{scopeType}' scope to publish to.");
                pairs[i] = (scopeType, value);
            }

            try
            {
                return RoutingKeys.Scope(pairs);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException($"{model.GetType().Name} has no valid publication scope: {ex.Message}", ex);
            }
        }
    }
}
