using System.Buffers.Binary;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Tests.Sfu;

internal static class SfuPackets
{
    /// <summary>A plaintext RTP packet with optional one-byte extensions and a payload of <paramref name="payloadLength"/> bytes (value = index).</summary>
    public static byte[] MakeRtp(uint ssrc, ushort seq, uint ts, byte pt = 96, int payloadLength = 20, bool marker = false,
        (int Id, byte[] Value)[]? extensions = null, int padding = 0)
    {
        var buffer = new byte[1500];
        var writer = new RtpHeaderWriter(buffer, pt, seq, ts, ssrc, marker);
        if (extensions is not null)
            foreach (var (id, value) in extensions) writer.AddExtension(id, value);
        int header = writer.Finish();
        for (int i = 0; i < payloadLength; i++) buffer[header + i] = (byte)i;
        int length = header + payloadLength;
        if (padding > 0) length = RtpHeaderWriter.AddPadding(buffer, length, padding);
        return buffer[..length];
    }

    public static ushort Seq(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
    public static uint Ts(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[4..]);
    public static uint Ssrc(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[8..]);

    public static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);
}
