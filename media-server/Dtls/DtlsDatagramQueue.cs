using System.Buffers;
using Org.BouncyCastle.Tls;

namespace TeleRehab.Media.Dtls;

/// <summary>
/// The <see cref="DatagramTransport"/> BouncyCastle runs on: a bounded queue of inbound datagrams filled by
/// <see cref="DtlsSession.HandleDatagram"/>, and the session's output delegate for sends.
/// In blocking mode (handshake) <see cref="Receive(Span{byte}, int)"/> waits on the queue for at most the time
/// BouncyCastle asks (its retransmission timers). In polling mode (after the handshake) an empty queue ends
/// the record layer's read loop at once (see <see cref="DtlsSession"/>).
/// </summary>
internal sealed class DtlsDatagramQueue : DatagramTransport
{
    private readonly object _lock = new();
    private readonly Queue<(byte[] Buffer, int Length)> _queue = new();
    private readonly int _capacity;
    private readonly int _sendLimit;
    private readonly int _receiveLimit;
    private readonly DtlsDatagramSender _output;
    private readonly Action _onClosedByProtocol;
    private volatile bool _polling;
    private volatile bool _aborted;
    private volatile bool _closed;

    public DtlsDatagramQueue(DtlsSessionOptions options, DtlsDatagramSender output, Action onClosedByProtocol)
    {
        _capacity = Math.Max(1, options.ReceiveQueueCapacity);
        _sendLimit = options.Mtu;
        _receiveLimit = Math.Max(options.Mtu, options.MaxReceiveDatagramSize);
        _output = output;
        _onClosedByProtocol = onClosedByProtocol;
    }

    /// <summary>Switch to non-blocking reads (after the handshake).</summary>
    public bool Polling { get => _polling; set => _polling = value; }

    public bool IsClosed => _closed;

    public int Count { get { lock (_lock) return _queue.Count; } }

    /// <summary>Copies and queues a datagram; drops it when oversized or when the queue is full.</summary>
    public bool Enqueue(ReadOnlySpan<byte> datagram)
    {
        if (datagram.IsEmpty || datagram.Length > _receiveLimit || _aborted)
            return false;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(datagram.Length);
        datagram.CopyTo(buffer);
        lock (_lock)
        {
            if (_queue.Count >= _capacity)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return false;
            }
            _queue.Enqueue((buffer, datagram.Length));
            Monitor.Pulse(_lock);
        }
        return true;
    }

    /// <summary>Makes a blocked or future handshake read fail (local close during the handshake).</summary>
    public void Abort()
    {
        lock (_lock)
        {
            _aborted = true;
            while (_queue.Count > 0)
                ArrayPool<byte>.Shared.Return(_queue.Dequeue().Buffer);
            Monitor.PulseAll(_lock);
        }
    }

    public int GetReceiveLimit() => _receiveLimit;

    public int GetSendLimit() => _sendLimit;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    public int Receive(Span<byte> buffer, int waitMillis)
    {
        (byte[] Buffer, int Length) item;
        lock (_lock)
        {
            if (_aborted)
                throw new IOException("DTLS session closed locally.");
            if (_queue.Count == 0)
            {
                if (_polling)
                {
                    // No more input: end DtlsRecordLayer.Receive's loop now instead of letting it spin until
                    // its deadline. DtlsTransport maps bad_record_mac to "-1, nothing read" without failing the
                    // connection because our peers set IgnoreCorruptDtlsRecords; no protocol state changed.
                    throw new TlsFatalAlert(AlertDescription.bad_record_mac, "no datagram pending");
                }
                if (waitMillis <= 0)
                    return -1;
                long deadline = Environment.TickCount64 + waitMillis;
                while (_queue.Count == 0 && !_aborted)
                {
                    long remaining = deadline - Environment.TickCount64;
                    if (remaining <= 0)
                        return -1;
                    Monitor.Wait(_lock, (int)remaining);
                }
                if (_aborted)
                    throw new IOException("DTLS session closed locally.");
            }
            item = _queue.Dequeue();
        }

        int length = item.Length;
        // BouncyCastle sizes its buffer with GetReceiveLimit(), so this always fits; if not, report the real
        // length so the record layer discards the datagram.
        item.Buffer.AsSpan(0, Math.Min(length, buffer.Length)).CopyTo(buffer);
        ArrayPool<byte>.Shared.Return(item.Buffer);
        return length;
    }

    public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

    public void Send(ReadOnlySpan<byte> buffer)
    {
        if (_closed)
            return;
        try
        {
            _output(buffer);
        }
        catch
        {
            // Datagram semantics: a failed send is a lost packet; DTLS retransmission copes.
        }
    }

    /// <summary>Called by BouncyCastle when the connection closes (close_notify sent/received, or failure).</summary>
    public void Close()
    {
        if (_closed)
            return;
        _closed = true;
        _onClosedByProtocol();
    }

    public void Drain()
    {
        lock (_lock)
        {
            while (_queue.Count > 0)
                ArrayPool<byte>.Shared.Return(_queue.Dequeue().Buffer);
        }
    }
}
