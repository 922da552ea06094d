namespace TeleRehab.Media.Rtp;

/// <summary>Header-extension block form (RFC 8285 §4).</summary>
public enum RtpExtensionForm
{
    None,
    /// <summary>0xBEDE: 4-bit id, 4-bit length-minus-one (RFC 8285 §4.2).</summary>
    OneByte,
    /// <summary>0x100X: 8-bit id, 8-bit length (RFC 8285 §4.3).</summary>
    TwoByte,
    /// <summary>Any other RFC 3550 §5.3.1 profile-defined extension; not interpreted.</summary>
    Other,
}

/// <summary>One extension element found in a packet.</summary>
public readonly ref struct RtpHeaderExtension
{
    internal RtpHeaderExtension(int id, ReadOnlySpan<byte> value, int elementOffset, int valueOffset)
    {
        Id = id;
        Value = value;
        ElementOffset = elementOffset;
        ValueOffset = valueOffset;
    }

    /// <summary>Local identifier (1-14 one-byte form, 1-255 two-byte form).</summary>
    public int Id { get; }

    public ReadOnlySpan<byte> Value { get; }

    /// <summary>Offset in the packet of the element's first (id) byte.</summary>
    public int ElementOffset { get; }

    /// <summary>Offset in the packet of the element's value.</summary>
    public int ValueOffset { get; }
}

/// <summary>Allocation-free enumerator over RFC 8285 elements. Assumes the block was validated by
/// <see cref="RtpPacketReader.TryParse"/>.</summary>
public ref struct RtpHeaderExtensionEnumerator
{
    private readonly ReadOnlySpan<byte> _packet;
    private readonly int _end;
    private readonly RtpExtensionForm _form;
    private int _pos;
    private RtpHeaderExtension _current;

    internal RtpHeaderExtensionEnumerator(ReadOnlySpan<byte> packet, int offset, int length, RtpExtensionForm form)
    {
        _packet = packet;
        _pos = offset;
        _end = offset + length;
        _form = form;
        _current = default;
    }

    public readonly RtpHeaderExtension Current => _current;

    public readonly RtpHeaderExtensionEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_form == RtpExtensionForm.OneByte)
        {
            while (_pos < _end)
            {
                byte b = _packet[_pos];
                int id = b >> 4;
                if (id == 0) { _pos++; continue; } // padding byte (RFC 8285 §4.2)
                if (id == 15) { _pos = _end; return false; } // stop processing (RFC 8285 §4.2)
                int len = (b & 0x0F) + 1;
                _current = new RtpHeaderExtension(id, _packet.Slice(_pos + 1, len), _pos, _pos + 1);
                _pos += 1 + len;
                return true;
            }
            return false;
        }
        if (_form == RtpExtensionForm.TwoByte)
        {
            while (_pos < _end)
            {
                int id = _packet[_pos];
                if (id == 0) { _pos++; continue; } // padding byte (RFC 8285 §4.3)
                int len = _packet[_pos + 1];
                _current = new RtpHeaderExtension(id, _packet.Slice(_pos + 2, len), _pos, _pos + 2);
                _pos += 2 + len;
                return true;
            }
        }
        return false;
    }
}

/// <summary>Helpers shared by the reader, writer and rewriter.</summary>
public static class RtpHeaderExtensions
{
    public static RtpExtensionForm GetForm(ushort profile, bool present)
    {
        if (!present) return RtpExtensionForm.None;
        if (profile == RtpPacketReader.OneByteExtensionProfile) return RtpExtensionForm.OneByte;
        if ((profile & 0xFFF0) == RtpPacketReader.TwoByteExtensionProfile) return RtpExtensionForm.TwoByte;
        return RtpExtensionForm.Other;
    }

    /// <summary>Checks that every element of an extension block fits inside it.</summary>
    internal static bool Validate(ReadOnlySpan<byte> data, RtpExtensionForm form)
    {
        int pos = 0;
        if (form == RtpExtensionForm.OneByte)
        {
            while (pos < data.Length)
            {
                byte b = data[pos];
                int id = b >> 4;
                if (id == 0) { pos++; continue; }
                if (id == 15) return true; // the rest is ignored per RFC 8285 §4.2
                pos += 2 + (b & 0x0F);
                if (pos > data.Length) return false;
            }
            return true;
        }
        while (pos < data.Length)
        {
            if (data[pos] == 0) { pos++; continue; }
            if (pos + 2 > data.Length) return false;
            pos += 2 + data[pos + 1];
            if (pos > data.Length) return false;
        }
        return true;
    }
}
