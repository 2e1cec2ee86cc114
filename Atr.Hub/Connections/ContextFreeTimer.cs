namespace Atr.Hub.Connections;

/// <summary>
/// Starts a node-wide clock: a timer that belongs to no connection, so it does not carry the
/// context of the one that happened to start it (its activity, its log scope) into every tick.
/// </summary>
internal static class ContextFreeTimer
{
    public static ITimer Start(TimeProvider time, TimerCallback callback, object state, TimeSpan period)
    {
        var restore = !ExecutionContext.IsFlowSuppressed();
        if (restore)
        {
            ExecutionContext.SuppressFlow();
        }

        try
        {
            return time.CreateTimer(callback, state, period, period);
        }
        finally
        {
            if (restore)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }
}
