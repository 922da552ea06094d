using TeleRehab.Media.Ice;

namespace TeleRehab.Media.Tests.Ice;

public class IceCredentialsTests
{
    [Fact]
    public void GeneratedCredentialsFollowRfc8839()
    {
        var seen = new HashSet<string>();
        for (int i = 0; i < 200; i++)
        {
            var c = IceCredentials.Generate();
            Assert.True(c.Ufrag.Length >= 4);
            Assert.True(c.Password.Length >= 22);
            Assert.True(IceCredentials.IsValidUfrag(c.Ufrag));
            Assert.True(IceCredentials.IsValidPassword(c.Password));
            Assert.All(c.Ufrag + c.Password, ch => Assert.True(char.IsAsciiLetterOrDigit(ch) || ch is '+' or '/'));
            Assert.True(seen.Add(c.Password));
            Assert.Equal(c.Password, System.Text.Encoding.ASCII.GetString(c.PasswordBytes));
            Assert.Equal(c.Ufrag, System.Text.Encoding.ASCII.GetString(c.UfragBytes));
        }
        var longer = IceCredentials.Generate(16, 32);
        Assert.Equal(16, longer.Ufrag.Length);
        Assert.Equal(32, longer.Password.Length);
    }

    [Theory]
    [InlineData("abc", "abcdefghijklmnopqrstuvwxyz")]      // ufrag too short
    [InlineData("ab:c", "abcdefghijklmnopqrstuvwxyz")]     // ':' is not an ice-char
    [InlineData("abcd", "short")]                          // password too short
    [InlineData("abcd", "abcdefghijklmnopqrstu vwxyz")]    // space
    public void InvalidCredentialsAreRejected(string ufrag, string pwd) =>
        Assert.Throws<ArgumentException>(() => new IceCredentials(ufrag, pwd));

    [Fact]
    public void GenerateRejectsTooShortLengths()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IceCredentials.Generate(3, 22));
        Assert.Throws<ArgumentOutOfRangeException>(() => IceCredentials.Generate(4, 21));
    }
}
