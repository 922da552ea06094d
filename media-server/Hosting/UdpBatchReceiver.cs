using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static TeleRehab.Media.Hosting.LinuxUdp;

namespace TeleRehab.Media.Hosting;

/// <summary>
/// Receives up to <see cref="Capacity"/> UDP datagrams in one recvmmsg(2), each with what
/// <see cref="UdpMessageReceiver"/> reads for one: its sender, the local address it was sent to (IP_PKTINFO /
/// IPV6_PKTINFO, so replies leave from it, RFC 8445 §7.2.5.2.1) and optionally the kernel's receive time
/// (<c>SO_TIMESTAMPNS</c>). On a virtual machine a system call is a trip through the hypervisor: a burst of datagrams
/// costs one call instead of one each, and a call that returns fewer than <see cref="Capacity"/> tells the loop the
/// socket is drained (no further call to learn it).
/// <para>
/// The datagrams land in this receiver's own memory, allocated once; they stay valid until the next
/// <see cref="ReceiveWaiting"/>, and the caller copies each into a buffer of its own (a memcpy of a datagram costs
/// far less than the system call it saves). A datagram longer than <see cref="SlotSize"/> is reported as truncated
/// (<see cref="IsTruncated"/>), never passed on cut short. One receiver serves the single UDP receive loop: not
/// thread-safe, no allocation per datagram. 64-bit Linux only (<see cref="TryCreate"/> returns null elsewhere).
/// </para>
/// </summary>
internal sealed unsafe class UdpBatchReceiver : IDisposable
{
    /// <summary>Datagrams per system call by default.</summary>
    public const int DefaultCapacity = 32;

    /// <summary>The largest datagram a slot holds (a larger one is truncated and reported so).</summary>
    public const int SlotSize = 2048;

    private const int NameSize = 128;    // sockaddr_storage
    private const int ControlSize = 128; // a timespec message (32) and a pktinfo message (up to 40), with room to spare
    private const int MsgTrunc = 0x20;   // MSG_TRUNC in msg_flags: the datagram was longer than its buffer
    private const int MsgCTrunc = 0x08;  // MSG_CTRUNC: control data cut short
    private static readonly long MaxAgeTicks = TimeSpan.TicksPerSecond;

    private readonly SafeHandle _handle;
    private readonly MultiMessageHeader* _messages;
    private readonly IoVec* _iovecs;
    private readonly byte* _payloads;
    private readonly byte* _names;
    private readonly byte* _controls;
    private readonly long* _receivedAt;
    private int _count;
    private bool _disposed;

    private UdpBatchReceiver(Socket socket, int capacity, bool kernelTimestamps, bool packetInfo)
    {
        _handle = socket.SafeHandle;
        Capacity = capacity;
        KernelTimestamps = kernelTimestamps;
        PacketInfo = packetInfo;
        _messages = (MultiMessageHeader*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(MultiMessageHeader)), 8);
        _iovecs = (IoVec*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(IoVec)), 8);
        _payloads = (byte*)NativeMemory.AlignedAlloc((nuint)capacity * SlotSize, 64);
        _names = (byte*)NativeMemory.AlignedAlloc((nuint)(capacity * NameSize), 8);
        _controls = (byte*)NativeMemory.AlignedAlloc((nuint)(capacity * ControlSize), 8);
        _receivedAt = (long*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(long)), 8);
        for (var i = 0; i < capacity; i++)
        {
            _iovecs[i] = new IoVec { Base = _payloads + (nint)i * SlotSize, Length = SlotSize };
        }
    }

    /// <summary>A receiver of up to <paramref name="capacity"/> datagrams a call on <paramref name="socket"/>, which
    /// reads each datagram's destination address and, when <paramref name="kernelTimestamps"/>, its kernel receive
    /// time; null where the platform has no recvmmsg with control data (not 64-bit Linux).</summary>
    public static UdpBatchReceiver? TryCreate(Socket socket, bool kernelTimestamps = true, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1024); // UIO_MAXIOV
        if (!IsSupported) return null;
        var stamped = kernelTimestamps && TryEnableTimestamps(socket);
        var packetInfo = TryEnablePacketInfo(socket);
        return new UdpBatchReceiver(socket, capacity, stamped, packetInfo);
    }

    /// <summary>Datagrams one call takes at most.</summary>
    public int Capacity { get; }

    /// <summary>True when datagrams carry the kernel's receive time.</summary>
    public bool KernelTimestamps { get; }

    /// <summary>True when datagrams carry their destination address.</summary>
    public bool PacketInfo { get; }

    /// <summary>Datagrams received with a kernel timestamp (the rest, if any, were stamped on arrival in user space).</summary>
    public long KernelStamped { get; private set; }

    /// <summary>System calls that returned datagrams.</summary>
    public long Calls { get; private set; }

    /// <summary>Datagrams received, truncated ones included.</summary>
    public long Received { get; private set; }

    /// <summary>Datagrams in the last batch (valid until the next <see cref="ReceiveWaiting"/>).</summary>
    public int Count => _count;

    /// <summary>
    /// Takes every datagram waiting, up to <see cref="Capacity"/>, without waiting: how many (0 when none is waiting;
    /// then <see cref="WaitReadable"/>). Fewer than <see cref="Capacity"/> means the socket had no more. Throws
    /// <see cref="SocketException"/> for errors other than "nothing yet" (e.g. ICMP port unreachable reported for an
    /// earlier send; datagrams behind it come with the next call) and <see cref="ObjectDisposedException"/> once the
    /// socket is disposed.
    /// </summary>
    public int ReceiveWaiting()
    {
        _count = 0;
        for (var i = 0; i < Capacity; i++)
        {
            _messages[i] = new MultiMessageHeader
            {
                Header = new MessageHeader
                {
                    Name = _names + i * NameSize,
                    NameLength = NameSize,
                    Iov = _iovecs + i,
                    IovLength = 1,
                    Control = _controls + i * ControlSize,
                    ControlLength = ControlSize,
                },
            };
        }

        int received;
        while (true)
        {
            // The call holds a reference on the socket's handle, as .NET's own calls do: a socket disposed meanwhile
            // keeps its descriptor (whose number could be reused) until the call returns; the next call then throws.
            received = recvmmsg(_handle, _messages, (uint)Capacity, MsgDontWait, null);
            if (received >= 0) break;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr) continue;
            if (errno == EAgain) return 0;
            throw new SocketException((int)SocketErrorFromErrno(errno));
        }
        if (received == 0) return 0;

        var stamp = Stopwatch.GetTimestamp();
        // One reading of the wall clock for the batch: each datagram's age on the kernel's clock (the wall clock) is
        // carried over to the monotonic one (arrival times need spacing, not the wall time).
        var wallNow = KernelTimestamps ? DateTime.UtcNow.Ticks : 0;
        for (var i = 0; i < received; i++)
        {
            var at = stamp;
            if (KernelTimestamps && TryReadTimestamp(&_messages[i].Header, out var kernelTicks))
            {
                var age = Math.Clamp(wallNow - kernelTicks, 0, MaxAgeTicks);
                at = stamp - (long)(age * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond);
                KernelStamped++;
            }
            _receivedAt[i] = at;
        }
        _count = received;
        Calls++;
        Received += received;
        return received;
    }

    /// <summary>Waits up to <paramref name="wait"/> for a datagram to read; false when none came (or a signal broke the
    /// wait). Throws <see cref="ObjectDisposedException"/> once the socket is disposed.</summary>
    public bool WaitReadable(TimeSpan wait)
    {
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            var fds = new PollFd { Fd = (int)_handle.DangerousGetHandle(), Events = PollIn };
            var ready = poll(&fds, 1, (int)Math.Clamp(wait.TotalMilliseconds, 0, int.MaxValue));
            if (ready < 0 && Marshal.GetLastPInvokeError() != EIntr) throw new SocketException((int)SocketErrorFromErrno(Marshal.GetLastPInvokeError()));
            return ready > 0;
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>The <paramref name="index"/>th datagram of the last batch (its first <see cref="SlotSize"/> bytes when
    /// truncated).</summary>
    public ReadOnlySpan<byte> Datagram(int index)
    {
        CheckIndex(index);
        return new ReadOnlySpan<byte>(_payloads + (nint)index * SlotSize, (int)Math.Min(_messages[index].Length, SlotSize));
    }

    /// <summary>True when the datagram was longer than <see cref="SlotSize"/> (its tail was lost).</summary>
    public bool IsTruncated(int index)
    {
        CheckIndex(index);
        return (_messages[index].Header.Flags & MsgTrunc) != 0;
    }

    /// <summary>The <see cref="Stopwatch"/> timestamp of the datagram's arrival (the kernel's, when it stamps them).</summary>
    public long ReceivedAt(int index)
    {
        CheckIndex(index);
        return _receivedAt[index];
    }

    /// <summary>The local address the datagram was sent to (default when unknown).</summary>
    public UdpLocalAddress Local(int index)
    {
        CheckIndex(index);
        if (!PacketInfo || (_messages[index].Header.Flags & MsgCTrunc) != 0) return default;
        return ReadPacketInfo(&_messages[index].Header);
    }

    /// <summary>Copies the datagram's sender into <paramref name="from"/> (a native sockaddr of the socket's family):
    /// the key the demultiplexer looks routes up by, reused for every datagram.</summary>
    public void CopySource(int index, SocketAddress from)
    {
        CheckIndex(index);
        var header = &_messages[index].Header;
        var length = (int)Math.Min(header->NameLength, (uint)NameSize);
        var target = from.Buffer.Span;
        if (length > target.Length) length = target.Length;
        new ReadOnlySpan<byte>(header->Name, length).CopyTo(target);
        from.Size = length;
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)_count) ThrowIndex();
    }

    private static void ThrowIndex() => throw new ArgumentOutOfRangeException("index", "No such datagram in the last batch.");

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _count = 0;
        NativeMemory.AlignedFree(_messages);
        NativeMemory.AlignedFree(_iovecs);
        NativeMemory.AlignedFree(_payloads);
        NativeMemory.AlignedFree(_names);
        NativeMemory.AlignedFree(_controls);
        NativeMemory.AlignedFree(_receivedAt);
    }
}
