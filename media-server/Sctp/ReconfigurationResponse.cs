using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// Re-configuration Response Parameter, RFC 6525 §4.4 (type 16): Re-configuration Response Sequence
/// Number, Result, and optionally the Sender's and Receiver's Next TSN (length 12, or 20 with them).
/// </summary>
public readonly ref struct ReconfigurationResponse
{
    public const int ShortSize = 12;
    public const int LongSize = 20;

    public ReconfigurationResponse(uint responseSequenceNumber, ReconfigurationResult result)
    {
        ResponseSequenceNumber = responseSequenceNumber;
        Result = result;
    }

    public ReconfigurationResponse(uint responseSequenceNumber, ReconfigurationResult result, uint sendersNextTsn, uint receiversNextTsn)
    {
        ResponseSequenceNumber = responseSequenceNumber;
        Result = result;
        HasNextTsns = true;
        SendersNextTsn = sendersNextTsn;
        ReceiversNextTsn = receiversNextTsn;
    }

    public uint ResponseSequenceNumber { get; }
    public ReconfigurationResult Result { get; }
    public bool HasNextTsns { get; }
    public uint SendersNextTsn { get; }
    public uint ReceiversNextTsn { get; }

    public static bool TryParse(SctpTlv parameter, out ReconfigurationResponse response)
    {
        response = default;
        if (parameter.Type != (ushort)SctpParameterType.ReconfigurationResponse) return false;
        var v = parameter.Value;
        uint sequence, result;
        switch (parameter.Length)
        {
            case ShortSize:
                sequence = BinaryPrimitives.ReadUInt32BigEndian(v);
                result = BinaryPrimitives.ReadUInt32BigEndian(v[4..]);
                response = new ReconfigurationResponse(sequence, (ReconfigurationResult)result);
                return true;
            case LongSize:
                sequence = BinaryPrimitives.ReadUInt32BigEndian(v);
                result = BinaryPrimitives.ReadUInt32BigEndian(v[4..]);
                response = new ReconfigurationResponse(sequence, (ReconfigurationResult)result,
                    BinaryPrimitives.ReadUInt32BigEndian(v[8..]), BinaryPrimitives.ReadUInt32BigEndian(v[12..]));
                return true;
            default:
                return false;
        }
    }

    public int GetSerializedLength() => HasNextTsns ? LongSize : ShortSize;

    public int WriteTo(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length) throw new ArgumentException("Destination too small.", nameof(destination));
        SctpTlv.WriteHeader(destination, (ushort)SctpParameterType.ReconfigurationResponse, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ResponseSequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)Result);
        if (HasNextTsns)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[12..], SendersNextTsn);
            BinaryPrimitives.WriteUInt32BigEndian(destination[16..], ReceiversNextTsn);
        }
        return length;
    }
}
