namespace TeleRehab.Media.Pose;

/// <summary>
/// Constants and quantisation of the pose keypoint wire format, version 1 (docs/pose-format.md).
/// The JavaScript twin is client-web/pose/keypoint-codec.js; both produce identical bytes.
/// </summary>
public static class KeypointFormat
{
    public const int LandmarkCount = 33;

    /// <summary>First byte of every frame: magic 0xD in the high nibble, version 1 in the low nibble.</summary>
    public const byte FormatByte = 0xD1;

    /// <summary>The largest frame the encoder produces: a key frame with a presence mask and 32 landmarks.</summary>
    public const int MaxFrameLength = 117;

    /// <summary>The largest valid frame (a delta frame with a mask and the widest deltas); longer input is malformed.</summary>
    public const int MaxValidLength = 127;

    public const byte FlagDelta = 0x01;
    public const byte FlagVisibility = 0x02;
    public const byte FlagZ = 0x04;
    public const byte FlagMask = 0x08;
    internal const byte ReservedFlags = 0xF0;

    internal const int KeyHeaderLength = 8;
    internal const int DeltaHeaderLength = 7;
    internal const int XyBits = 10;
    internal const int ZBits = 4;
    internal const int VisibilityBits = 2;
    internal const int XyMax = (1 << XyBits) - 1;
    internal const int ZMax = (1 << ZBits) - 1;
    internal const int VisibilityMax = (1 << VisibilityBits) - 1;
    internal const int MaxXyDeltaBits = 11;
    internal const int StaleWindow = 1024;

    // x, y: 1023 steps over -0.25..1.25 (1.5 / 1023 = 1 / 682); z: 15 steps over -1..1; visibility: 3 steps over 0..1.
    internal const double XyOffset = 0.25;
    internal const double XyScale = 682;
    internal const double ZScale = 7.5;
    internal const double VisibilityScale = 3;

    /// <summary>Largest |decoded - original| of X and Y inside -0.25..1.25 (values outside are clamped).</summary>
    public const double XyErrorBound = 0.5 / XyScale;

    /// <summary>Largest |decoded - original| of Z inside -1..1 (values outside are clamped).</summary>
    public const double ZErrorBound = 0.5 / ZScale;

    /// <summary>Largest |decoded - original| of Visibility inside 0..1.</summary>
    public const double VisibilityErrorBound = 0.5 / VisibilityScale;

    // floor(v * scale + 0.5) in double from the float input: the same operations as the JavaScript codec
    // (which rounds its inputs to float32 first), so both pick the same step, ties included.
    internal static int Quantise(float value, double offset, double scale, int max)
    {
        double q = Math.Floor(((double)value + offset) * scale + 0.5);
        return q < 0 ? 0 : q > max ? max : (int)q;
    }

    internal static int QuantiseXy(float value) => Quantise(value, XyOffset, XyScale, XyMax);

    internal static int QuantiseZ(float value) => Quantise(float.IsNaN(value) ? 0 : value, 1, ZScale, ZMax);

    internal static int QuantiseVisibility(float value) => Quantise(value, 0, VisibilityScale, VisibilityMax);

    internal static float DequantiseXy(int q) => (float)(q / XyScale - XyOffset);

    internal static float DequantiseZ(int q) => (float)(q / ZScale - 1);

    internal static float DequantiseVisibility(int q) => (float)(q / VisibilityScale);

    /// <summary>Whether d fits a two's complement field of the given width (width 0 holds only 0).</summary>
    internal static bool FitsSigned(int d, int bits)
    {
        if (bits == 0) return d == 0;
        int half = 1 << (bits - 1);
        return d >= -half && d < half;
    }

    internal static int SignedBits(int d)
    {
        int bits = 0;
        while (!FitsSigned(d, bits)) bits++;
        return bits;
    }

    internal static int ToSigned(int v, int bits) => bits > 0 && v >= 1 << (bits - 1) ? v - (1 << bits) : v;
}

/// <summary>Quantised landmarks of one frame (the encoder's and decoder's reference state).</summary>
internal sealed class QuantisedFrame
{
    public readonly bool[] Present = new bool[KeypointFormat.LandmarkCount];
    public readonly int[] X = new int[KeypointFormat.LandmarkCount];
    public readonly int[] Y = new int[KeypointFormat.LandmarkCount];
    public readonly int[] Z = new int[KeypointFormat.LandmarkCount];
    public readonly int[] V = new int[KeypointFormat.LandmarkCount];

    public void CopyTo(QuantisedFrame other)
    {
        Present.AsSpan().CopyTo(other.Present);
        X.AsSpan().CopyTo(other.X);
        Y.AsSpan().CopyTo(other.Y);
        Z.AsSpan().CopyTo(other.Z);
        V.AsSpan().CopyTo(other.V);
    }

    public void Clear(int i) => X[i] = Y[i] = Z[i] = V[i] = 0;
}

/// <summary>Writes bit fields most significant bit first into a zeroed span.</summary>
internal ref struct BitWriter(Span<byte> bytes, int bitPosition)
{
    private readonly Span<byte> _bytes = bytes;
    private int _pos = bitPosition;

    /// <summary>Writes the low <paramref name="bits"/> bits of value (two's complement for negative values).</summary>
    public void Write(int value, int bits)
    {
        for (int b = bits - 1; b >= 0; b--)
        {
            if (((value >> b) & 1) != 0) _bytes[_pos >> 3] |= (byte)(0x80 >> (_pos & 7));
            _pos++;
        }
    }
}

/// <summary>Reads bit fields most significant bit first; a read past the end returns -1.</summary>
internal ref struct BitReader(ReadOnlySpan<byte> bytes, int bitPosition)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private int _pos = bitPosition;

    public int Read(int bits)
    {
        if (_pos + bits > _bytes.Length * 8) return -1;
        int v = 0;
        for (int b = 0; b < bits; b++)
        {
            v = (v << 1) | ((_bytes[_pos >> 3] >> (7 - (_pos & 7))) & 1);
            _pos++;
        }
        return v;
    }

    /// <summary>True when the data ends in the byte holding the last bit read and the padding bits are zero.</summary>
    public bool Finished()
    {
        int limit = _bytes.Length * 8;
        if (((_pos + 7) >> 3) * 8 != limit) return false;
        return _pos == limit || Read(limit - _pos) == 0;
    }
}
