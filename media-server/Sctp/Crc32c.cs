using System.Buffers.Binary;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;
using System.Runtime.Intrinsics.X86;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// CRC32c (Castagnoli polynomial 0x1EDC6F41, reflected form 0x82F63B78), the SCTP checksum of
/// RFC 9260 §6.8 and Appendix A (first specified in RFC 3309). Uses the SSE4.2 or ARMv8 CRC32C
/// instructions when present, otherwise a slicing-by-8 table.
/// </summary>
public static class Crc32c
{
    private const uint ReflectedPolynomial = 0x82F63B78u;
    private static readonly uint[] s_table = BuildTable();

    /// <summary>CRC32c of <paramref name="data"/> (initial value all ones, final value inverted).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);

    /// <summary>Feeds <paramref name="data"/> into a running, not yet inverted CRC state (start with 0xFFFFFFFF).</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported) return UpdateSse42X64(state, data);
        if (Sse42.IsSupported) return UpdateSse42(state, data);
        if (ArmCrc32.Arm64.IsSupported) return UpdateArm64(state, data);
        return UpdateSoftware(state, data);
    }

    /// <summary>Whether <see cref="Update"/> uses a hardware instruction on this machine.</summary>
    public static bool IsHardwareAccelerated => Sse42.IsSupported || ArmCrc32.Arm64.IsSupported;

    /// <summary>The table-driven path, always available; exposed so tests can compare it with the hardware path.</summary>
    internal static uint UpdateSoftware(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] t = s_table;
        while (data.Length >= 8)
        {
            uint one = crc ^ BinaryPrimitives.ReadUInt32LittleEndian(data);
            uint two = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[7 * 256 + (one & 0xFF)] ^ t[6 * 256 + ((one >> 8) & 0xFF)]
                ^ t[5 * 256 + ((one >> 16) & 0xFF)] ^ t[4 * 256 + (one >> 24)]
                ^ t[3 * 256 + (two & 0xFF)] ^ t[2 * 256 + ((two >> 8) & 0xFF)]
                ^ t[1 * 256 + ((two >> 16) & 0xFF)] ^ t[two >> 24];
            data = data[8..];
        }
        foreach (byte b in data)
            crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    internal static uint UpdateSse42X64(uint crc, ReadOnlySpan<byte> data)
    {
        ulong c = crc;
        while (data.Length >= 8)
        {
            c = Sse42.X64.Crc32(c, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        crc = (uint)c;
        foreach (byte b in data) crc = Sse42.Crc32(crc, b);
        return crc;
    }

    internal static uint UpdateSse42(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 4)
        {
            crc = Sse42.Crc32(crc, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[4..];
        }
        foreach (byte b in data) crc = Sse42.Crc32(crc, b);
        return crc;
    }

    internal static uint UpdateArm64(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = ArmCrc32.Arm64.ComputeCrc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte b in data) crc = ArmCrc32.ComputeCrc32C(crc, b);
        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? ReflectedPolynomial ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        for (int i = 0; i < 256; i++)
            for (int t = 1; t < 8; t++)
            {
                uint prev = table[(t - 1) * 256 + i];
                table[t * 256 + i] = (prev >> 8) ^ table[prev & 0xFF];
            }
        return table;
    }
}
