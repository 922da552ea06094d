namespace TeleRehab.Media.Bwe;

/// <summary>
/// One packet of a transport-wide feedback matched to the send history: when and how big it was sent, and when it
/// arrived (in the sender's clock, offset by an unknown constant) or that it was reported lost.
/// </summary>
public readonly record struct PacketResult(
    long Sequence, TimeSpan SendTime, TimeSpan ArrivalTime, int Size, int ProbeClusterId, bool Received, bool WasReportedLost)
{
    public bool IsProbe => ProbeClusterId >= 0;
}
