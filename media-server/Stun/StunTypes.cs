namespace TeleRehab.Media.Stun;

/// <summary>STUN message class (RFC 8489 §5: the C1/C0 bits of the message type).</summary>
public enum StunClass : byte
{
    Request = 0,
    Indication = 1,
    SuccessResponse = 2,
    ErrorResponse = 3,
}

/// <summary>STUN methods (12 bits, RFC 8489 §18.2).</summary>
public enum StunMethod : ushort
{
    Binding = 0x001,
}

/// <summary>STUN attribute types used by this stack (RFC 8489 §18.3, RFC 8445 §16.1).</summary>
public enum StunAttributeType : ushort
{
    MappedAddress = 0x0001,
    Username = 0x0006,
    MessageIntegrity = 0x0008,
    ErrorCode = 0x0009,
    UnknownAttributes = 0x000A,
    Realm = 0x0014,
    Nonce = 0x0015,
    MessageIntegritySha256 = 0x001C,
    PasswordAlgorithm = 0x001D,
    Userhash = 0x001E,
    XorMappedAddress = 0x0020,
    Priority = 0x0024,
    UseCandidate = 0x0025,
    PasswordAlgorithms = 0x8002,
    AlternateDomain = 0x8003,
    Software = 0x8022,
    AlternateServer = 0x8023,
    Fingerprint = 0x8028,
    IceControlled = 0x8029,
    IceControlling = 0x802A,
}

/// <summary>Error codes used by STUN/ICE (RFC 8489 §14.8, RFC 8445 §16.2).</summary>
public static class StunErrorCodes
{
    public const int BadRequest = 400;
    public const int Unauthorized = 401;
    public const int UnknownAttribute = 420;
    public const int RoleConflict = 487;
    public const int ServerError = 500;

    /// <summary>Recommended reason phrase for a code (UTF-8), empty if unknown.</summary>
    public static ReadOnlySpan<byte> ReasonPhrase(int code) => code switch
    {
        BadRequest => "Bad Request"u8,
        Unauthorized => "Unauthorized"u8,
        UnknownAttribute => "Unknown Attribute"u8,
        RoleConflict => "Role Conflict"u8,
        ServerError => "Server Error"u8,
        _ => ReadOnlySpan<byte>.Empty,
    };
}

/// <summary>
/// A STUN message type: 12-bit method plus 2-bit class, interleaved as in RFC 8489 §5:
/// M11..M7 C1 M6..M4 C0 M3..M0.
/// </summary>
public readonly record struct StunMessageType(StunMethod Method, StunClass Class)
{
    public static StunMessageType BindingRequest => new(StunMethod.Binding, StunClass.Request);
    public static StunMessageType BindingIndication => new(StunMethod.Binding, StunClass.Indication);
    public static StunMessageType BindingSuccess => new(StunMethod.Binding, StunClass.SuccessResponse);
    public static StunMessageType BindingError => new(StunMethod.Binding, StunClass.ErrorResponse);

    /// <summary>The 14-bit wire value (the two top bits of the 16-bit field are zero).</summary>
    public ushort Value
    {
        get
        {
            int m = (int)Method;
            int c = (int)Class;
            return (ushort)((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2)
                | ((c & 1) << 4) | ((c & 2) << 7));
        }
    }

    public static StunMessageType FromValue(ushort value)
    {
        int m = (value & 0x000F) | ((value >> 1) & 0x0070) | ((value >> 2) & 0x0F80);
        int c = ((value >> 4) & 1) | ((value >> 7) & 2);
        return new StunMessageType((StunMethod)m, (StunClass)c);
    }

    public override string ToString() => $"{Method} {Class}";
}
