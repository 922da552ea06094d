using static TeleRehab.Media.Pose.KeypointFormat;

namespace TeleRehab.Media.Pose;

public enum KeypointDecodeStatus
{
    /// <summary>Nothing decoded yet.</summary>
    None,

    /// <summary>The frame was decoded.</summary>
    Ok,

    /// <summary>The bytes are not a valid frame; the decoder state is unchanged.</summary>
    Malformed,

    /// <summary>A delta frame whose previous frame is missing (lost, or no key frame yet): the decoder waits for a key frame.</summary>
    MissingReference,

    /// <summary>An old or duplicate frame (sequence number not after the last decoded one); ignored, state unchanged.</summary>
    Stale,
}

/// <summary>
/// Decodes the pose keypoint wire format (docs/pose-format.md). Keeps the previous frame as the reference for delta
/// frames; after a sequence gap it rejects delta frames until the next key frame. Never throws on bad input and
/// allocates nothing per frame. Not thread-safe.
/// </summary>
public sealed class KeypointDecoder
{
    private readonly QuantisedFrame _ref = new();
    private readonly QuantisedFrame _cur = new();
    private bool _hasReference;
    private ushort _lastSequence;
    private uint _refTimestamp;
    private byte _refFlags;

    /// <summary>Why the last TryDecode returned what it did.</summary>
    public KeypointDecodeStatus LastStatus { get; private set; }

    /// <summary>True while the decoder holds a reference frame (false before the first key frame and after a gap).</summary>
    public bool HasReference => _hasReference;

    /// <summary>Forgets the reference frame: the decoder waits for the next key frame.</summary>
    public void Reset() => _hasReference = false;

    public bool TryDecode(ReadOnlySpan<byte> data, out KeypointFrame frame) => TryDecode(data, out frame, out _);

    public bool TryDecode(ReadOnlySpan<byte> data, out KeypointFrame frame, out KeypointDecodeStatus status)
    {
        frame = default;
        status = DecodeInto(data);
        LastStatus = status;
        if (status != KeypointDecodeStatus.Ok) return false;

        frame.Sequence = _lastSequence;
        frame.TimestampMs = _refTimestamp;
        frame.IsKeyFrame = (data[1] & FlagDelta) == 0;
        bool hasZ = (_refFlags & FlagZ) != 0, hasV = (_refFlags & FlagVisibility) != 0;
        for (int i = 0; i < LandmarkCount; i++)
        {
            if (!_ref.Present[i]) continue; // default: all zero, absent
            frame.Landmarks[i] = new Landmark(
                DequantiseXy(_ref.X[i]),
                DequantiseXy(_ref.Y[i]),
                hasZ ? DequantiseZ(_ref.Z[i]) : 0,
                hasV ? DequantiseVisibility(_ref.V[i]) : 1,
                1);
        }
        return true;
    }

    private KeypointDecodeStatus DecodeInto(ReadOnlySpan<byte> data)
    {
        if (data.Length < DeltaHeaderLength || data.Length > MaxValidLength || data[0] != FormatByte) return KeypointDecodeStatus.Malformed;
        byte flags = data[1];
        if ((flags & ReservedFlags) != 0) return KeypointDecodeStatus.Malformed;
        bool isDelta = (flags & FlagDelta) != 0, hasZ = (flags & FlagZ) != 0, hasV = (flags & FlagVisibility) != 0;
        ushort seq = (ushort)((data[2] << 8) | data[3]);
        uint timestamp;

        if (!isDelta)
        {
            if (data.Length < KeyHeaderLength) return KeypointDecodeStatus.Malformed;
            timestamp = (uint)((data[4] << 24) | (data[5] << 16) | (data[6] << 8) | data[7]);
            var r = new BitReader(data, KeyHeaderLength * 8);
            if (!ReadMask(ref r, flags, _cur, null)) return KeypointDecodeStatus.Malformed;
            for (int i = 0; i < LandmarkCount; i++)
            {
                if (!_cur.Present[i]) { _cur.Clear(i); continue; }
                if (!ReadAbsolute(ref r, _cur, i, hasZ, hasV)) return KeypointDecodeStatus.Malformed;
            }
            if (!r.Finished()) return KeypointDecodeStatus.Malformed;
            // An old key frame (up to StaleWindow behind, RFC 1982 style 16-bit arithmetic) must not rewind the pose.
            if (_hasReference && (ushort)(_lastSequence - seq) < StaleWindow) return KeypointDecodeStatus.Stale;
        }
        else
        {
            int wxy = data[6] >> 4, wz = (data[6] >> 2) & 3, wv = data[6] & 3;
            if (wxy > MaxXyDeltaBits || (!hasZ && wz != 0) || (!hasV && wv != 0)) return KeypointDecodeStatus.Malformed;
            if (!_hasReference) return KeypointDecodeStatus.MissingReference;
            ushort ahead = (ushort)(seq - _lastSequence);
            if (ahead == 0 || ahead >= 0x8000) return KeypointDecodeStatus.Stale;
            if (ahead != 1)
            {
                _hasReference = false; // a frame was lost: wait for the next key frame
                return KeypointDecodeStatus.MissingReference;
            }
            if ((flags & (FlagZ | FlagVisibility)) != _refFlags) return KeypointDecodeStatus.Malformed;
            timestamp = unchecked(_refTimestamp + (uint)((data[4] << 8) | data[5]));
            var r = new BitReader(data, DeltaHeaderLength * 8);
            if (!ReadMask(ref r, flags, _cur, _ref)) return KeypointDecodeStatus.Malformed;
            for (int i = 0; i < LandmarkCount; i++)
            {
                if (!_cur.Present[i]) { _cur.Clear(i); continue; }
                if (!_ref.Present[i])
                {
                    if (!ReadAbsolute(ref r, _cur, i, hasZ, hasV)) return KeypointDecodeStatus.Malformed;
                    continue;
                }
                int dx = r.Read(wxy), dy = r.Read(wxy), dz = hasZ ? r.Read(wz) : 0, dv = hasV ? r.Read(wv) : 0;
                if (dx < 0 || dy < 0 || dz < 0 || dv < 0) return KeypointDecodeStatus.Malformed;
                int x = _ref.X[i] + ToSigned(dx, wxy), y = _ref.Y[i] + ToSigned(dy, wxy);
                int z = _ref.Z[i] + ToSigned(dz, wz), v = _ref.V[i] + ToSigned(dv, wv);
                if ((uint)x > XyMax || (uint)y > XyMax || (uint)z > ZMax || (uint)v > VisibilityMax) return KeypointDecodeStatus.Malformed;
                _cur.X[i] = x;
                _cur.Y[i] = y;
                _cur.Z[i] = z;
                _cur.V[i] = v;
            }
            if (!r.Finished()) return KeypointDecodeStatus.Malformed;
        }

        _cur.CopyTo(_ref);
        _refFlags = (byte)(flags & (FlagZ | FlagVisibility));
        _refTimestamp = timestamp;
        _lastSequence = seq;
        _hasReference = true;
        return KeypointDecodeStatus.Ok;
    }

    // Key frame: no mask flag = all landmarks present. Delta frame: no mask flag = the reference frame's mask.
    private static bool ReadMask(ref BitReader r, byte flags, QuantisedFrame q, QuantisedFrame? reference)
    {
        if ((flags & FlagMask) == 0)
        {
            if (reference is null) q.Present.AsSpan().Fill(true);
            else reference.Present.AsSpan().CopyTo(q.Present);
            return true;
        }
        for (int i = 0; i < LandmarkCount; i++)
        {
            int b = r.Read(1);
            if (b < 0) return false;
            q.Present[i] = b == 1;
        }
        return true;
    }

    private static bool ReadAbsolute(ref BitReader r, QuantisedFrame q, int i, bool hasZ, bool hasV)
    {
        int x = r.Read(XyBits), y = r.Read(XyBits), z = hasZ ? r.Read(ZBits) : 0, v = hasV ? r.Read(VisibilityBits) : 0;
        if (x < 0 || y < 0 || z < 0 || v < 0) return false;
        q.X[i] = x;
        q.Y[i] = y;
        q.Z[i] = z;
        q.V[i] = v;
        return true;
    }
}
