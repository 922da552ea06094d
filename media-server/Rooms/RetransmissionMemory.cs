namespace TeleRehab.Media.Rooms;

/// <summary>The outcome of <see cref="RetransmissionMemory.TryReserve"/>.</summary>
public enum RetransmissionReservation
{
    /// <summary>The bytes are reserved (or nothing more was needed).</summary>
    Reserved,

    /// <summary>The participant would hold more than <see cref="RetransmissionMemory.PerParticipantBytes"/>.</summary>
    ParticipantFull,

    /// <summary>The server would hold more than <see cref="RetransmissionMemory.CapacityBytes"/>.</summary>
    ServerFull,
}

/// <summary>
/// The server-wide budget for publications' retransmission buffers (each published stream keeps its recent packets for
/// NACKs: about 1.5 MB per video stream, 0.1 MB per audio stream). A publication reserves its buffers' bytes before
/// they are allocated and releases them when it is unpublished (renegotiation, the participant leaving, the room
/// closing), so the memory publishers can make the server hold is bounded, in total and per participant.
/// Thread-safe: rooms on every worker share one budget.
/// </summary>
public sealed class RetransmissionMemory
{
    /// <summary>Defaults when the host sets no budget: 1024 MB in total, 16 MB per participant (enough for the largest
    /// publisher the default role limits allow: 2 audio and 3 video tracks with three simulcast encodings each).</summary>
    public const int DefaultCapacityMB = 1024;

    public const int DefaultPerParticipantMB = 16;

    private long _reserved;

    /// <param name="capacityBytes">The most all participants together may hold.</param>
    /// <param name="perParticipantBytes">The most one participant may hold.</param>
    public RetransmissionMemory(long capacityBytes, long perParticipantBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perParticipantBytes);
        CapacityBytes = capacityBytes;
        PerParticipantBytes = perParticipantBytes;
    }

    /// <summary>A budget of <see cref="DefaultCapacityMB"/> and <see cref="DefaultPerParticipantMB"/>.</summary>
    public static RetransmissionMemory CreateDefault() => new(DefaultCapacityMB * Megabyte, DefaultPerParticipantMB * Megabyte);

    /// <summary>The unit of the MB settings: 2^20 bytes.</summary>
    public const long Megabyte = 1024 * 1024;

    public long CapacityBytes { get; }

    public long PerParticipantBytes { get; }

    /// <summary>The bytes reserved now by every publication on the server (a metric).</summary>
    public long ReservedBytes => Interlocked.Read(ref _reserved);

    /// <summary>
    /// Reserves <paramref name="bytes"/> more for a participant that holds <paramref name="participantBytes"/> now and
    /// gives back <paramref name="releasingBytes"/> of them in the same change (publications a renegotiation drops;
    /// the caller <see cref="Release"/>s those right after). Nothing is reserved unless both the participant's and the
    /// server's totals stay within their caps.
    /// </summary>
    public RetransmissionReservation TryReserve(long bytes, long participantBytes = 0, long releasingBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfNegative(participantBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(releasingBytes);
        if (bytes == 0) return RetransmissionReservation.Reserved;
        if (participantBytes - releasingBytes + bytes > PerParticipantBytes) return RetransmissionReservation.ParticipantFull;
        while (true)
        {
            var reserved = Interlocked.Read(ref _reserved);
            if (reserved - releasingBytes + bytes > CapacityBytes) return RetransmissionReservation.ServerFull;
            if (Interlocked.CompareExchange(ref _reserved, reserved + bytes, reserved) == reserved) return RetransmissionReservation.Reserved;
        }
    }

    /// <summary>Gives back bytes an earlier <see cref="TryReserve"/> reserved.</summary>
    public void Release(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0) return;
        var after = Interlocked.Add(ref _reserved, -bytes);
        System.Diagnostics.Debug.Assert(after >= 0, "retransmission memory released more than was reserved");
    }

    /// <summary>Bytes as whole MB, rounded up, for messages.</summary>
    internal static long ToMB(long bytes) => (bytes + Megabyte - 1) / Megabyte;
}
