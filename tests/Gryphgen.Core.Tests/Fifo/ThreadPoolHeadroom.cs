namespace Gryphgen.Core.Tests.Fifo;

/// <summary>
/// Raises the thread pool's minimum for a test, and restores it. A queued flush that finds the pipe full is finished
/// from the pool, which xunit's own blocked threads can starve for half a second at a time; a test that waits for it
/// needs the pool to run it.
/// </summary>
internal sealed class ThreadPoolHeadroom : IDisposable
{
    private readonly int _workers;
    private readonly int _completionPorts;

    public ThreadPoolHeadroom(int workers = 16)
    {
        ThreadPool.GetMinThreads(out _workers, out _completionPorts);
        _ = ThreadPool.SetMinThreads(Math.Max(_workers, workers), _completionPorts);
    }

    public void Dispose() => ThreadPool.SetMinThreads(_workers, _completionPorts);
}
