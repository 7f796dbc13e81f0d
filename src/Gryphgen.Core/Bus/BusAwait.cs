namespace Gryphgen.Core.Bus;

/// <summary>
/// The cmdlets and agents are synchronous and the NATS client is asynchronous. The client runs its own I/O loop,
/// and PowerShell's pipeline thread has no synchronization context, so blocking on its tasks cannot deadlock.
/// </summary>
internal static class BusAwait
{
    public static T Result<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    public static void Complete(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            task.AsTask().GetAwaiter().GetResult();
        }
    }

    public static T Result<T>(Task<T> task) => task.GetAwaiter().GetResult();

    public static void Complete(Task task) => task.GetAwaiter().GetResult();
}
