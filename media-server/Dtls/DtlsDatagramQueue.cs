using System.Buffers;
using Org.BouncyCastle.Tls;

namespace TeleRehab.Media.Dtls;

/// <summary>
/// The <see cref="DatagramTransport"/> BouncyCastle runs on: a bounded queue of inbound datagrams filled by
/// <see cref="DtlsSession.HandleDatagram"/>, and the session's output delegate for sends.
/// In blocking mode (handshake) <see cref="Receive(Span{byte}, int)"/> waits on the queue for at most the time
/// BouncyCastle asks (its retransmission timers). In polling mode (after the handshake) an empty queue ends
/// the record layer's read loop at once (see <see cref="DtlsSession"/>).
/// <para>During the handshake inbound datagrams are split into records and passed through a
/// <see cref="DtlsHandshakeRecordGate"/> (one record per read), and outbound records of one flight are packed into
/// as few datagrams as the MTU allows (RFC 6347 §4.1.1), as browsers do: BouncyCastle writes each record with its own
/// <see cref="Send(ReadOnlySpan{byte})"/>; the packed datagram goes out when the next record would not fit, when
/// BouncyCastle next reads (its flight is complete), and when the handshake ends or the transport closes.</para>
/// </summary>
internal sealed class DtlsDatagramQueue : DatagramTransport
{
    private readonly object _lock = new();
    private readonly Queue<(byte[] Buffer, int Length)> _queue = new();
    /// <summary>Records the gate released, handed to BouncyCastle one per read (guarded by _lock).</summary>
    private readonly Queue<(byte[] Buffer, int Length)> _ready = new();
    private readonly DtlsHandshakeRecordGate _gate;
    private readonly int _capacity;
    private readonly int _sendLimit;
    private readonly int _receiveLimit;
    private readonly DtlsDatagramSender _output;
    private readonly Action _onClosedByProtocol;
    /// <summary>The flight being packed; only the handshake thread touches it (no sends run concurrently then).</summary>
    private readonly byte[] _flight;
    private int _flightLength;
    private volatile bool _polling;
    private volatile bool _aborted;
    private volatile bool _closed;

    public DtlsDatagramQueue(DtlsSessionOptions options, DtlsRole role, DtlsDatagramSender output, Action onClosedByProtocol)
    {
        _capacity = Math.Max(1, options.ReceiveQueueCapacity);
        _sendLimit = options.Mtu;
        _receiveLimit = Math.Max(options.Mtu, options.MaxReceiveDatagramSize);
        _output = output;
        _onClosedByProtocol = onClosedByProtocol;
        _gate = new DtlsHandshakeRecordGate(role);
        _flight = new byte[Math.Max(1, options.Mtu)];
    }

    /// <summary>Whether reads are non-blocking (after the handshake, see <see cref="EndHandshake"/>).</summary>
    public bool Polling => _polling;

    public bool IsClosed => _closed;

    /// <summary>Datagrams and released records not yet read by BouncyCastle.</summary>
    public int Count { get { lock (_lock) return _queue.Count + _ready.Count; } }

    /// <summary>
    /// The handshake finished (called on the handshake thread after BouncyCastle returned): sends the packed final
    /// flight, drops records still held back, and switches to non-blocking reads without packing.
    /// </summary>
    public void EndHandshake()
    {
        FlushFlight();
        lock (_lock)
        {
            _gate.Clear();
            _polling = true;
        }
    }

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
            ClearQueues();
            Monitor.PulseAll(_lock);
        }
    }

    public int GetReceiveLimit() => _receiveLimit;

    public int GetSendLimit() => _sendLimit;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    public int Receive(Span<byte> buffer, int waitMillis)
    {
        // BouncyCastle reads once its flight is written: send it now, outside the lock (the output delegate may
        // feed the peer's session synchronously).
        if (!_polling)
            FlushFlight();

        (byte[] Buffer, int Length) item;
        long deadline = Environment.TickCount64 + Math.Max(waitMillis, 0);
        lock (_lock)
        {
            while (true)
            {
                if (_aborted)
                    throw new IOException("DTLS session closed locally.");
                if (_ready.Count > 0)
                {
                    item = _ready.Dequeue();
                    break;
                }
                if (_queue.Count > 0)
                {
                    var datagram = _queue.Dequeue();
                    if (_polling)
                    {
                        item = datagram;
                        break;
                    }
                    // Handshake: let the gate order the records (it may hold some back).
                    _gate.Admit(datagram.Buffer.AsSpan(0, datagram.Length), _ready);
                    ArrayPool<byte>.Shared.Return(datagram.Buffer);
                    continue;
                }
                if (_polling)
                {
                    // No more input: end DtlsRecordLayer.Receive's loop now instead of letting it spin until
                    // its deadline. DtlsTransport maps bad_record_mac to "-1, nothing read" without failing the
                    // connection because our peers set IgnoreCorruptDtlsRecords; no protocol state changed.
                    throw new TlsFatalAlert(AlertDescription.bad_record_mac, "no datagram pending");
                }
                long remaining = deadline - Environment.TickCount64;
                if (waitMillis <= 0 || remaining <= 0)
                    return -1;
                Monitor.Wait(_lock, (int)remaining);
            }
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
        if (_polling || buffer.Length > _flight.Length)
        {
            // After the handshake every record goes out at once (application data must not wait for a read).
            FlushFlight();
            Output(buffer);
            return;
        }
        // One record of the current flight (BouncyCastle never writes more than GetSendLimit() at once).
        if (_flightLength + buffer.Length > _flight.Length)
            FlushFlight();
        buffer.CopyTo(_flight.AsSpan(_flightLength));
        _flightLength += buffer.Length;
    }

    private void FlushFlight()
    {
        if (_flightLength == 0)
            return;
        int length = _flightLength;
        _flightLength = 0;
        if (!_closed)
            Output(_flight.AsSpan(0, length));
    }

    private void Output(ReadOnlySpan<byte> datagram)
    {
        try
        {
            _output(datagram);
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
        // The alert BouncyCastle just wrote (or the rest of a flight) still goes out.
        if (!_polling)
            FlushFlight();
        _closed = true;
        _onClosedByProtocol();
    }

    public void Drain()
    {
        lock (_lock)
            ClearQueues();
    }

    private void ClearQueues()
    {
        while (_queue.Count > 0)
            ArrayPool<byte>.Shared.Return(_queue.Dequeue().Buffer);
        while (_ready.Count > 0)
            ArrayPool<byte>.Shared.Return(_ready.Dequeue().Buffer);
        _gate.Clear();
    }
}
