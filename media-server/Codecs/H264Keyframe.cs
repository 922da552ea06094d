namespace TeleRehab.Media.Codecs;

/// <summary>
/// Key frame detection on H.264 RTP payloads (RFC 6184). A packet starts a key frame when it carries, or begins,
/// an IDR slice (NAL unit type 5) or a sequence parameter set (type 7, sent by encoders right before an IDR).
/// </summary>
public static class H264Keyframe
{
    private const int NalTypeMask = 0x1F;
    private const int IdrSlice = 5, Sps = 7;
    private const int StapA = 24, FuA = 28;

    /// <summary>
    /// True for a single NAL unit packet (§5.6) of type 5 or 7, a STAP-A (§5.7.1) aggregating one, or the first
    /// fragment (S bit) of an FU-A (§5.8) of one. Malformed input yields false, never an exception.
    /// </summary>
    public static bool IsKeyframe(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty) return false;
        int type = payload[0] & NalTypeMask;
        switch (type)
        {
            case IdrSlice:
            case Sps:
                return true;
            case StapA:
                // §5.7.1: after the STAP-A NAL header, units of a 16-bit size followed by the NAL unit.
                for (int offset = 1; offset + 2 < payload.Length;)
                {
                    int size = (payload[offset] << 8) | payload[offset + 1];
                    offset += 2;
                    if (size == 0 || offset + size > payload.Length) return false;
                    int inner = payload[offset] & NalTypeMask;
                    if (inner is IdrSlice or Sps) return true;
                    offset += size;
                }
                return false;
            case FuA:
                // §5.8: FU indicator, then the FU header |S|E|R|Type|; S marks the first fragment.
                return payload.Length >= 2 && (payload[1] & 0x80) != 0 && (payload[1] & NalTypeMask) is IdrSlice or Sps;
            default:
                return false;
        }
    }
}
