using System.Buffers.Binary;
using TeleRehab.Media.Net;

namespace TeleRehab.Media.Ice;

/// <summary>
/// RFC 4571 §2 framing used by ICE-TCP (RFC 6544 §3): every packet is preceded by a 16-bit big-endian length.
/// </summary>
public static class Rfc4571Framer
{
    public const int HeaderLength = 2;
    public const int MaxPayloadLength = ushort.MaxValue;

    public static int GetFrameLength(int payloadLength) => HeaderLength + payloadLength;

    /// <summary>Writes length prefix + payload. Returns false if the payload is too long or the destination too small.</summary>
    public static bool TryWriteFrame(ReadOnlySpan<byte> payload, Span<byte> destination, out int written)
    {
        written = 0;
        if (payload.Length > MaxPayloadLength || destination.Length < HeaderLength + payload.Length) return false;
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)payload.Length);
        payload.CopyTo(destination[HeaderLength..]);
        written = HeaderLength + payload.Length;
        return true;
    }

    /// <summary>Writes only the 2-byte length prefix (for gathered writes of header and payload).</summary>
    public static void WriteHeader(int payloadLength, Span<byte> destination)
    {
        if ((uint)payloadLength > MaxPayloadLength) throw new ArgumentOutOfRangeException(nameof(payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)payloadLength);
    }
}

/// <summary>
/// Reassembles RFC 4571 frames from a TCP byte stream split anywhere. Frames that arrive whole are returned as
/// slices of the input (no copy); split frames are reassembled in an internal buffer. An oversize length or a
/// frame that is not STUN/DTLS/RTP/RTCP (RFC 7983) puts the deframer in the <see cref="IsFaulted"/> state: the
/// stream has lost sync and the host should close the connection. Never throws on input.
/// </summary>
public sealed class Rfc4571Deframer
{
    private readonly int _maxFrameLength;
    private readonly bool _requireKnownPacketKind;
    private byte[] _buffer;
    private int _buffered;        // bytes of the current partial frame (header included) held in _buffer
    private bool _returnedBuffer; // the last frame returned lives in _buffer and must be discarded on the next call

    /// <param name="maxFrameLength">Largest accepted payload (default 65535: anything the 16-bit length can say).</param>
    /// <param name="requireKnownPacketKind">Reject frames that the RFC 7983 classifier does not recognise.</param>
    public Rfc4571Deframer(int maxFrameLength = Rfc4571Framer.MaxPayloadLength, bool requireKnownPacketKind = true)
    {
        if (maxFrameLength is < 1 or > Rfc4571Framer.MaxPayloadLength) throw new ArgumentOutOfRangeException(nameof(maxFrameLength));
        _maxFrameLength = maxFrameLength;
        _requireKnownPacketKind = requireKnownPacketKind;
        _buffer = new byte[Math.Min(2048, Rfc4571Framer.HeaderLength + maxFrameLength)];
    }

    public bool IsFaulted { get; private set; }

    /// <summary>Bytes held for an incomplete frame.</summary>
    public int BufferedBytes => _returnedBuffer ? 0 : _buffered;

    /// <summary>
    /// Consumes bytes from <paramref name="input"/> and returns the next complete frame. The frame is valid until the
    /// next call. Call repeatedly until it returns false (input exhausted, or faulted: check <see cref="IsFaulted"/>).
    /// </summary>
    public bool TryReadFrame(ref ReadOnlySpan<byte> input, out ReadOnlySpan<byte> frame)
    {
        frame = default;
        if (_returnedBuffer)
        {
            _returnedBuffer = false;
            _buffered = 0;
        }
        while (!IsFaulted)
        {
            if (_buffered == 0)
            {
                // Fast path: a whole frame at the start of the input.
                if (input.IsEmpty) break;
                if (input.Length < Rfc4571Framer.HeaderLength)
                {
                    _buffer[0] = input[0];
                    _buffered = 1;
                    input = default;
                    break;
                }
                int length = BinaryPrimitives.ReadUInt16BigEndian(input);
                if (!CheckLength(length)) return false;
                if (input.Length >= Rfc4571Framer.HeaderLength + length)
                {
                    frame = input.Slice(Rfc4571Framer.HeaderLength, length);
                    input = input[(Rfc4571Framer.HeaderLength + length)..];
                    if (length == 0) continue; // an empty frame carries nothing; skip it
                    return Accept(frame);
                }
                EnsureCapacity(Rfc4571Framer.HeaderLength + length);
                input.CopyTo(_buffer);
                _buffered = input.Length;
                input = default;
                break;
            }

            // Slow path: complete the header, then the body, from the internal buffer.
            if (_buffered < Rfc4571Framer.HeaderLength)
            {
                if (input.IsEmpty) break;
                _buffer[_buffered++] = input[0];
                input = input[1..];
                if (_buffered < Rfc4571Framer.HeaderLength) continue;
                int length = BinaryPrimitives.ReadUInt16BigEndian(_buffer);
                if (!CheckLength(length)) return false;
                EnsureCapacity(Rfc4571Framer.HeaderLength + length);
            }
            int total = Rfc4571Framer.HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(_buffer);
            int needed = total - _buffered;
            int take = Math.Min(needed, input.Length);
            input[..take].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += take;
            input = input[take..];
            if (_buffered < total) break;
            if (total == Rfc4571Framer.HeaderLength)
            {
                _buffered = 0;
                continue;
            }
            frame = _buffer.AsSpan(Rfc4571Framer.HeaderLength, total - Rfc4571Framer.HeaderLength);
            _returnedBuffer = true;
            return Accept(frame);
        }
        frame = default;
        return false;
    }

    public void Reset()
    {
        _buffered = 0;
        _returnedBuffer = false;
        IsFaulted = false;
    }

    private bool CheckLength(int length)
    {
        if (length <= _maxFrameLength) return true;
        IsFaulted = true;
        return false;
    }

    private bool Accept(ReadOnlySpan<byte> frame)
    {
        if (_requireKnownPacketKind && PacketClassifier.Classify(frame) == PacketKind.Unknown)
        {
            IsFaulted = true;
            return false;
        }
        return true;
    }

    private void EnsureCapacity(int size)
    {
        if (_buffer.Length >= size) return;
        var bigger = new byte[Math.Max(size, Math.Min(_buffer.Length * 2, Rfc4571Framer.HeaderLength + _maxFrameLength))];
        _buffer.AsSpan(0, _buffered).CopyTo(bigger);
        _buffer = bigger;
    }
}
