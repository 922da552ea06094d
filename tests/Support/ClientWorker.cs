using TeleRehab.Media.Hosting;

namespace TeleRehab.Media.Tests.Support;

/// <summary>A media worker for client-side peers in tests (the load generator uses the same shape).</summary>
public sealed class ClientWorker : IDisposable
{
    public ClientWorker()
    {
        Worker = new MediaWorker(0, TimeProvider.System, TimeProvider.System.GetTimestamp(), _ => { });
        Worker.Start();
    }

    public MediaWorker Worker { get; }

    public void Dispose() => Worker.Dispose();
}
