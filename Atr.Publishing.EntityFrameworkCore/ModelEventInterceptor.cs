using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.Options;

namespace Atr.Publishing.EntityFrameworkCore;

/// <summary>
/// Publishes <c>created</c> / <c>updated</c> / <c>destroyed</c> for <see cref="PublishableAttribute"/>
/// entities once their changes are committed: right after <c>SaveChanges</c> when no transaction is
/// open, at <c>Commit</c> when one is, never after a rollback or a failed save.
/// </summary>
/// <remarks>
/// One instance serves every context; what a context has pending is kept per context instance. An
/// update is published only when a column's value really changed. Records hold the entity's mapped
/// scalar properties (navigations are not walked), read after the save so database-generated keys
/// are in them; a deleted entity's record is its last known values. Savepoints are not tracked:
/// rolling back to a savepoint of the application's own keeps the events of the saves after it,
/// and they are published at commit.
/// </remarks>
internal sealed class ModelEventInterceptor(
    IEventPublisher publisher,
    EventFactory events,
    EventRegistry registry,
    PublishFailureReporter failures,
    IOptions<AtrPublishingOptions> options) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private readonly ConditionalWeakTable<DbContext, ContextState> _contexts = new();
    private readonly ConditionalWeakTable<IModel, object> _registeredModels = new();

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Capture(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Capture(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (Saved(eventData.Context) is { } batch)
        {
            PublishInBackground(batch);
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (Saved(eventData.Context) is { } batch)
        {
            await PublishAsync(batch).ConfigureAwait(false);
        }

        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Discard(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Discard(eventData.Context);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => Discard(eventData.Context);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Discard(eventData.Context);
        return Task.CompletedTask;
    }

    DbTransaction IDbTransactionInterceptor.TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        Forget(eventData.Context);
        return result;
    }

    ValueTask<DbTransaction> IDbTransactionInterceptor.TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken)
    {
        Forget(eventData.Context);
        return ValueTask.FromResult(result);
    }

    DbTransaction IDbTransactionInterceptor.TransactionUsed(DbConnection connection, TransactionEventData eventData, DbTransaction result)
    {
        Forget(eventData.Context);
        return result;
    }

    ValueTask<DbTransaction> IDbTransactionInterceptor.TransactionUsedAsync(DbConnection connection, TransactionEventData eventData, DbTransaction result, CancellationToken cancellationToken)
    {
        Forget(eventData.Context);
        return ValueTask.FromResult(result);
    }

    void IDbTransactionInterceptor.TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (Committed(eventData) is { } batch)
        {
            PublishInBackground(batch);
        }
    }

    async Task IDbTransactionInterceptor.TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        if (Committed(eventData) is { } batch)
        {
            await PublishAsync(batch).ConfigureAwait(false);
        }
    }

    void IDbTransactionInterceptor.TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    Task IDbTransactionInterceptor.TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    void IDbTransactionInterceptor.TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Failed(eventData);

    Task IDbTransactionInterceptor.TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken)
    {
        Failed(eventData);
        return Task.CompletedTask;
    }

    private void Capture(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        RegisterModel(context.Model);
        if (context.ChangeTracker.AutoDetectChangesEnabled)
        {
            // SaveChanges detects changes after this interceptor runs; states must be final here.
            context.ChangeTracker.DetectChanges();
        }

        var captured = new List<CapturedChange>();
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (!ModelNames.IsPublishable(entry.Metadata.ClrType))
            {
                continue;
            }

            switch (entry.State)
            {
                case EntityState.Added:
                    captured.Add(new CapturedChange(entry, ModelAction.Created, null));
                    break;
                case EntityState.Modified when HasChangedColumn(entry):
                    captured.Add(new CapturedChange(entry, ModelAction.Updated, null));
                    break;
                case EntityState.Deleted:
                    // After the save the entry is detached: keep its last known values now.
                    captured.Add(new CapturedChange(entry, ModelAction.Destroyed, Record(entry)));
                    break;
            }
        }

        // A stack, not a slot: another interceptor may save again from inside this save.
        _contexts.GetOrCreateValue(context).Saving.Push(captured);
    }

    private List<AtrEvent>? Saved(DbContext? context)
    {
        if (context is null || !_contexts.TryGetValue(context, out var state) || !state.Saving.TryPop(out var captured) || captured.Count == 0)
        {
            return null;
        }

        var batch = new List<AtrEvent>(captured.Count);
        foreach (var change in captured)
        {
            try
            {
                var entity = change.Entry.Entity;
                batch.Add(events.Create(
                    ModelNames.ScopeOf(entity),
                    ModelNames.EventName(change.Entry.Metadata.ClrType, change.Action),
                    change.Snapshot ?? Record(change.Entry),
                    change.Entry.Metadata.ClrType.Name));
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
            {
                // A model whose scope cannot be read (a null organization id) must not fail the
                // application's save, which has already happened.
                failures.Report([], ex);
            }
        }

        if (context.Database.CurrentTransaction is { } transaction)
        {
            // Inside the application's transaction: hold the events until that transaction commits.
            if (state.HeldFor != transaction.TransactionId)
            {
                state.AwaitingCommit.Clear();
                state.HeldFor = transaction.TransactionId;
            }

            state.AwaitingCommit.AddRange(batch);
            return null;
        }

        if (System.Transactions.Transaction.Current is { } ambient)
        {
            // Inside a TransactionScope: publish when it completes, and only if it committed.
            ambient.TransactionCompleted += (_, e) =>
            {
                if (e.Transaction?.TransactionInformation.Status == System.Transactions.TransactionStatus.Committed)
                {
                    PublishInBackground(batch);
                }
            };
            return null;
        }

        return batch;
    }

    private List<AtrEvent>? Committed(TransactionEndEventData eventData)
    {
        if (eventData.Context is not { } context || !_contexts.TryGetValue(context, out var state) || state.AwaitingCommit.Count == 0)
        {
            return null;
        }

        var batch = state.AwaitingCommit;
        var ours = state.HeldFor == eventData.TransactionId;
        state.AwaitingCommit = [];
        state.HeldFor = null;

        // Events held for another transaction belong to one that ended without Commit or Rollback
        // (disposed): its data is gone, so are its events.
        return ours ? batch : null;
    }

    /// <summary>Drops held events: their transaction rolled back, or a new one starts after it was abandoned.</summary>
    private void Forget(DbContext? context)
    {
        if (context is not null && _contexts.TryGetValue(context, out var state))
        {
            state.AwaitingCommit.Clear();
            state.HeldFor = null;
        }
    }

    private void Failed(TransactionErrorEventData eventData)
    {
        // Only a failed commit or rollback ends the transaction; a failed savepoint operation does not.
        if (eventData.Action is "Commit" or "Rollback")
        {
            Forget(eventData.Context);
        }
    }

    private void Discard(DbContext? context)
    {
        if (context is not null && _contexts.TryGetValue(context, out var state))
        {
            state.Saving.TryPop(out _);
        }
    }

    private async Task PublishAsync(List<AtrEvent> batch)
    {
        try
        {
            await StartPublishing(batch).WaitAsync(options.Value.PublishTimeout).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failures.Report(batch, ex);
        }
    }

    private void PublishInBackground(List<AtrEvent> batch)
    {
        // A synchronous SaveChanges is not held up by Redis: the events are handed over and a
        // failure is reported when it happens.
        var timeout = options.Value.PublishTimeout;
        _ = StartPublishing(batch).WaitAsync(timeout).ContinueWith(
            (task, state) => failures.Report((List<AtrEvent>)state!, task.Exception!.GetBaseException()),
            batch,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private Task StartPublishing(List<AtrEvent> batch)
    {
        // Every publish is started before any is awaited: they go to Redis in order, pipelined, in
        // one round trip rather than one per event.
        var publishing = new Task[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                publishing[i] = publisher.PublishAsync(batch[i], CancellationToken.None);
            }
            catch (Exception ex)
            {
                // A serializer that throws synchronously must not reach SaveChanges or Commit.
                publishing[i] = Task.FromException(ex);
            }
        }

        return Task.WhenAll(publishing);
    }

    private static bool HasChangedColumn(EntityEntry entry)
    {
        foreach (var property in entry.Properties)
        {
            if (property.IsModified && !Equals(property.OriginalValue, property.CurrentValue))
            {
                return true;
            }
        }

        return false;
    }

    private OrderedDictionary<string, object?> Record(EntityEntry entry)
    {
        var naming = options.Value.RecordSerializerOptions.PropertyNamingPolicy;
        var record = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in entry.Properties)
        {
            var name = property.Metadata.Name;
            record[naming?.ConvertName(name) ?? name] = property.CurrentValue;
        }

        return record;
    }

    private void RegisterModel(IModel model)
    {
        if (_registeredModels.TryGetValue(model, out _))
        {
            return;
        }

        foreach (var entityType in model.GetEntityTypes())
        {
            if (!entityType.IsOwned() && ModelNames.IsPublishable(entityType.ClrType))
            {
                registry.AddModel(entityType.ClrType);
            }
        }

        _registeredModels.AddOrUpdate(model, new object());
    }

    private sealed record CapturedChange(EntityEntry Entry, ModelAction Action, OrderedDictionary<string, object?>? Snapshot);

    private sealed class ContextState
    {
        /// <summary>What each <c>SaveChanges</c> under way will publish if it succeeds, innermost on top.</summary>
        public Stack<List<CapturedChange>> Saving { get; } = new();

        /// <summary>Events of saves inside the open transaction, published at its commit.</summary>
        public List<AtrEvent> AwaitingCommit { get; set; } = [];

        /// <summary>The transaction <see cref="AwaitingCommit"/> belongs to.</summary>
        public Guid? HeldFor { get; set; }
    }
}
