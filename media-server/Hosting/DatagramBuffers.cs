using System.Collections.Concurrent;

namespace TeleRehab.Media.Hosting;

/// <summary>
/// The buffers received datagrams travel in from a receive loop to a media worker (<see cref="MediaWorker.PostDatagram(IMediaPeer, byte[], int, TeleRehab.Media.Net.IPacketPath)"/>),
/// which gives each back when it has handled it. A buffer is rented on one thread and returned on another for every
/// datagram, the case <see cref="System.Buffers.ArrayPool{T}.Shared"/> serves from per-core stacks behind a lock (its
/// per-thread cache only helps a thread that returns what it rents): this pool is a lock-free queue instead, so the
/// hand-off takes no lock, and allocates nothing once it holds enough buffers (at most <see cref="MaxPooled"/>; more
/// returned are left to the GC, fewer waiting means a new one). Thread-safe.
/// </summary>
public static class DatagramBuffers
{
    /// <summary>The length of every buffer rented: the largest datagram the loops receive.</summary>
    public const int Size = 2048;

    /// <summary>Buffers kept at most (4 MiB): more than the datagrams a burst leaves queued for the workers.</summary>
    public const int MaxPooled = 2048;

    private static readonly ConcurrentQueue<byte[]> s_free = new();
    private static int s_pooled;

    /// <summary>Buffers waiting to be rented now.</summary>
    public static int Pooled => Volatile.Read(ref s_pooled);

    /// <summary>A buffer of <see cref="Size"/> bytes (its content is whatever it held last).</summary>
    public static byte[] Rent()
    {
        if (s_free.TryDequeue(out var buffer))
        {
            Interlocked.Decrement(ref s_pooled);
            return buffer;
        }
        return GC.AllocateUninitializedArray<byte>(Size);
    }

    /// <summary>Gives a buffer back (from <see cref="Rent"/>; a buffer of another length is left to the GC). The caller
    /// must not touch it after.</summary>
    public static void Return(byte[] buffer)
    {
        if (buffer.Length != Size) return;
        if (Interlocked.Increment(ref s_pooled) > MaxPooled)
        {
            Interlocked.Decrement(ref s_pooled);
            return;
        }
        s_free.Enqueue(buffer);
    }
}
