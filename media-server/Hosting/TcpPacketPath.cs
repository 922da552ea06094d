using TeleRehab.Media.Net;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace TeleRehab.Media.Hosting;

/// <summary>One accepted ICE-TCP connection (RFC 6544, passive side). Outgoing datagrams are framed with the RFC 4571
/// 16-bit length and queued; one async writer drains the queue, so a slow receiver never blocks a worker. When the
/// queue is full new packets are dropped, as a congested UDP path would.</summary>
public sealed class TcpPacketPath : IPacketPath, IDisposable
{
    private const int MaxQueuedFrames = 512;

    private readonly Socket _socket;
    private readonly ConcurrentQueue<(byte[] Buffer, int Length)> _outgoing = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _closed = new();
    private int _queued;
    private int _disposed;

    public TcpPacketPath(Socket socket) : this(socket, (IPEndPoint)socket.RemoteEndPoint!)
    {
    }

    /// <summary>A path over <paramref name="socket"/>, whose remote the caller already read (reading it again can
    /// throw once the remote has reset the connection).</summary>
    public TcpPacketPath(Socket socket, IPEndPoint remote)
    {
        _socket = socket;
        Remote = remote;
        _ = Task.Run(WriteLoopAsync);
    }

    public IPEndPoint Remote { get; }

    public bool IsTcp => true;

    public bool IsClosed => _closed.IsCancellationRequested;

    public bool Send(ReadOnlySpan<byte> datagram)
    {
        if (_closed.IsCancellationRequested || datagram.Length > ushort.MaxValue) return false;
        if (Interlocked.Increment(ref _queued) > MaxQueuedFrames)
        {
            Interlocked.Decrement(ref _queued);
            return false;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(datagram.Length + 2);
        BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)datagram.Length); // RFC 4571 §2
        datagram.CopyTo(buffer.AsSpan(2));
        _outgoing.Enqueue((buffer, datagram.Length + 2));
        _signal.Release();
        return true;
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            while (true)
            {
                await _signal.WaitAsync(_closed.Token).ConfigureAwait(false);
                if (!_outgoing.TryDequeue(out var frame)) continue;
                Interlocked.Decrement(ref _queued);
                try
                {
                    await _socket.SendAsync(frame.Buffer.AsMemory(0, frame.Length), SocketFlags.None, _closed.Token).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(frame.Buffer);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            Dispose();
        }
    }

    /// <summary>Closes the connection (from any thread, any number of times): the writer stops, queued frames are
    /// dropped and the socket is shut down, which also ends the host's receive loop on it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
        while (_outgoing.TryDequeue(out var frame)) ArrayPool<byte>.Shared.Return(frame.Buffer);
    }

    public override string ToString() => $"tcp:{Remote}";
}
