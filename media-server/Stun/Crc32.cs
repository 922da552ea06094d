namespace TeleRehab.Media.Stun;

/// <summary>CRC-32 (ISO HDLC / IEEE 802.3, reflected polynomial 0xEDB88320), as used by the STUN FINGERPRINT (RFC 8489 §14.7).</summary>
internal static class Crc32
{
    private static readonly uint[] s_table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        // Slicing-by-8 tables.
        for (int i = 0; i < 256; i++)
            for (int t = 1; t < 8; t++)
            {
                uint prev = table[(t - 1) * 256 + i];
                table[t * 256 + i] = (prev >> 8) ^ table[prev & 0xFF];
            }
        return table;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint[] t = s_table;
        uint crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            uint one = crc ^ (uint)(data[0] | data[1] << 8 | data[2] << 16 | data[3] << 24);
            uint two = (uint)(data[4] | data[5] << 8 | data[6] << 16 | data[7] << 24);
            crc = t[7 * 256 + (one & 0xFF)] ^ t[6 * 256 + ((one >> 8) & 0xFF)]
                ^ t[5 * 256 + ((one >> 16) & 0xFF)] ^ t[4 * 256 + (one >> 24)]
                ^ t[3 * 256 + (two & 0xFF)] ^ t[2 * 256 + ((two >> 8) & 0xFF)]
                ^ t[1 * 256 + ((two >> 16) & 0xFF)] ^ t[two >> 24];
            data = data[8..];
        }
        foreach (byte b in data)
            crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}
