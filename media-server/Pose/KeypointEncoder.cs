using static TeleRehab.Media.Pose.KeypointFormat;

namespace TeleRehab.Media.Pose;

/// <summary>Encoder settings. Both ends need nothing but the bytes: every frame says which fields it carries.</summary>
public sealed record KeypointEncoderOptions
{
    /// <summary>A key frame at least every N frames (1 = key frames only). Bounds the loss after a lost frame.</summary>
    public int KeyFrameInterval { get; init; } = 10;

    /// <summary>A landmark whose visibility or presence is below this is sent absent.</summary>
    public double AbsentThreshold { get; init; } = 0.5;

    public bool IncludeZ { get; init; } = true;

    public bool IncludeVisibility { get; init; } = true;

    public ushort InitialSequence { get; init; }
}

/// <summary>
/// Encodes pose frames into the keypoint wire format (docs/pose-format.md): key frames with absolute values, delta
/// frames against the previous frame when they are smaller. Allocates nothing per frame. Not thread-safe.
/// </summary>
public sealed class KeypointEncoder
{
    private readonly KeypointEncoderOptions _options;
    private readonly QuantisedFrame _ref = new();
    private readonly QuantisedFrame _cur = new();
    private bool _hasReference;
    private bool _forceKeyFrame;
    private int _framesSinceKey;
    private uint _refTimestamp;

    public KeypointEncoder(KeypointEncoderOptions? options = null)
    {
        _options = options ?? new KeypointEncoderOptions();
        if (_options.KeyFrameInterval < 1) throw new ArgumentOutOfRangeException(nameof(options), "KeyFrameInterval must be at least 1.");
        NextSequence = _options.InitialSequence;
    }

    /// <summary>The sequence number the next frame gets.</summary>
    public ushort NextSequence { get; private set; }

    /// <summary>Makes the next frame a key frame (e.g. when the receiver reports a lost frame).</summary>
    public void RequestKeyFrame() => _forceKeyFrame = true;

    /// <summary>
    /// Encodes a frame (its Sequence and IsKeyFrame are ignored) into destination and returns the bytes written.
    /// Throws ArgumentException, with the encoder unchanged, when destination is shorter than the frame;
    /// a destination of <see cref="KeypointFormat.MaxFrameLength"/> bytes always suffices.
    /// </summary>
    public int Encode(in KeypointFrame frame, Span<byte> destination)
    {
        if (!TryEncode(frame, destination, out int written))
            throw new ArgumentException($"The destination is shorter than the frame ({written} bytes).", nameof(destination));
        return written;
    }

    /// <summary>Like <see cref="Encode"/> but returns false (written = the length needed) when destination is too short.</summary>
    public bool TryEncode(in KeypointFrame frame, Span<byte> destination, out int written)
    {
        bool hasZ = _options.IncludeZ, hasV = _options.IncludeVisibility;
        int present = Quantise(frame, _cur);
        int absBits = 2 * XyBits + (hasZ ? ZBits : 0) + (hasV ? VisibilityBits : 0);
        int keyBits = (present < LandmarkCount ? LandmarkCount : 0) + present * absBits;
        int keyLength = KeyHeaderLength + ((keyBits + 7) >> 3);
        uint timestamp = frame.TimestampMs;
        uint tsDelta = unchecked(timestamp - _refTimestamp);

        bool delta = _hasReference && !_forceKeyFrame && _framesSinceKey + 1 < _options.KeyFrameInterval && tsDelta <= 0xFFFF;
        int wxy = 0, wz = 0, wv = 0, deltaLength = 0;
        bool maskChanged = false;
        if (delta)
        {
            int shared = 0, fresh = 0;
            for (int i = 0; i < LandmarkCount; i++)
            {
                if (_cur.Present[i] != _ref.Present[i]) maskChanged = true;
                if (!_cur.Present[i]) continue;
                if (!_ref.Present[i]) { fresh++; continue; }
                shared++;
                wxy = Math.Max(wxy, Math.Max(SignedBits(_cur.X[i] - _ref.X[i]), SignedBits(_cur.Y[i] - _ref.Y[i])));
                if (hasZ) wz = Math.Max(wz, SignedBits(_cur.Z[i] - _ref.Z[i]));
                if (hasV) wv = Math.Max(wv, SignedBits(_cur.V[i] - _ref.V[i]));
            }
            if (wz > 3 || wv > 3)
            {
                delta = false; // the delta does not fit its 2-bit width field: fall back to a key frame
            }
            else
            {
                int bits = (maskChanged ? LandmarkCount : 0) + fresh * absBits + shared * (2 * wxy + wz + wv);
                deltaLength = DeltaHeaderLength + ((bits + 7) >> 3);
                if (deltaLength >= keyLength) delta = false;
            }
        }

        int length = delta ? deltaLength : keyLength;
        written = length;
        if (destination.Length < length) return false;

        Span<byte> dst = destination[..length];
        dst.Clear();
        ushort seq = NextSequence;
        byte flags = (byte)((hasV ? FlagVisibility : 0) | (hasZ ? FlagZ : 0));
        dst[0] = FormatByte;
        dst[2] = (byte)(seq >> 8);
        dst[3] = (byte)seq;
        if (delta)
        {
            flags |= (byte)(FlagDelta | (maskChanged ? FlagMask : 0));
            dst[4] = (byte)(tsDelta >> 8);
            dst[5] = (byte)tsDelta;
            dst[6] = (byte)((wxy << 4) | (wz << 2) | wv);
            var w = new BitWriter(dst, DeltaHeaderLength * 8);
            if (maskChanged) WriteMask(ref w, _cur);
            for (int i = 0; i < LandmarkCount; i++)
            {
                if (!_cur.Present[i]) continue;
                if (!_ref.Present[i]) { WriteAbsolute(ref w, _cur, i, hasZ, hasV); continue; }
                w.Write(_cur.X[i] - _ref.X[i], wxy);
                w.Write(_cur.Y[i] - _ref.Y[i], wxy);
                if (hasZ) w.Write(_cur.Z[i] - _ref.Z[i], wz);
                if (hasV) w.Write(_cur.V[i] - _ref.V[i], wv);
            }
            _framesSinceKey++;
        }
        else
        {
            bool withMask = present < LandmarkCount;
            if (withMask) flags |= FlagMask;
            dst[4] = (byte)(timestamp >> 24);
            dst[5] = (byte)(timestamp >> 16);
            dst[6] = (byte)(timestamp >> 8);
            dst[7] = (byte)timestamp;
            var w = new BitWriter(dst, KeyHeaderLength * 8);
            if (withMask) WriteMask(ref w, _cur);
            for (int i = 0; i < LandmarkCount; i++)
                if (_cur.Present[i]) WriteAbsolute(ref w, _cur, i, hasZ, hasV);
            _framesSinceKey = 0;
            _forceKeyFrame = false;
        }
        dst[1] = flags;
        _cur.CopyTo(_ref);
        _refTimestamp = timestamp;
        _hasReference = true;
        NextSequence = unchecked((ushort)(seq + 1));
        return true;
    }

    private int Quantise(in KeypointFrame frame, QuantisedFrame q)
    {
        double threshold = _options.AbsentThreshold;
        int present = 0;
        for (int i = 0; i < LandmarkCount; i++)
        {
            Landmark lm = frame.Landmarks[i];
            float vis = float.IsNaN(lm.Visibility) ? 0 : lm.Visibility;
            float pres = float.IsNaN(lm.Presence) ? 0 : lm.Presence;
            bool on = float.IsFinite(lm.X) && float.IsFinite(lm.Y) && !(vis < threshold) && !(pres < threshold);
            q.Present[i] = on;
            if (!on)
            {
                q.Clear(i);
                continue;
            }
            present++;
            q.X[i] = QuantiseXy(lm.X);
            q.Y[i] = QuantiseXy(lm.Y);
            q.Z[i] = _options.IncludeZ ? QuantiseZ(lm.Z) : 0;
            q.V[i] = _options.IncludeVisibility ? QuantiseVisibility(vis) : 0;
        }
        return present;
    }

    private static void WriteMask(ref BitWriter w, QuantisedFrame q)
    {
        for (int i = 0; i < LandmarkCount; i++) w.Write(q.Present[i] ? 1 : 0, 1);
    }

    private static void WriteAbsolute(ref BitWriter w, QuantisedFrame q, int i, bool hasZ, bool hasV)
    {
        w.Write(q.X[i], XyBits);
        w.Write(q.Y[i], XyBits);
        if (hasZ) w.Write(q.Z[i], ZBits);
        if (hasV) w.Write(q.V[i], VisibilityBits);
    }
}
