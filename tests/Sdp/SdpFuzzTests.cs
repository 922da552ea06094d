using CsCheck;
using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.Tests.Sdp;

public class SdpFuzzTests
{
    private static readonly SdpAnswerer Answerer = new(SdpSamples.Server(new Dictionary<string, SdpLocalStream> { ["1"] = new(7, "c", "s", "t", 8) }));

    /// <summary>Parsing, re-serialising and answering must never throw, and serialisation must be stable.</summary>
    private static void Check(string text)
    {
        if (SessionDescription.TryParse(text, out var sdp, out var error))
        {
            string once = sdp!.ToString();
            Assert.True(SessionDescription.TryParse(once, out var again, out var error2), error2);
            Assert.Equal(once, again!.ToString());
            if (Answerer.TryCreateAnswer(sdp, out var answer, out var why))
            {
                Assert.True(SessionDescription.TryParse(answer!.Sdp, out _, out var error3), error3);
                var ids = answer.Description.Media.SelectMany(m => m.Extmaps).GroupBy(e => e.Id);
                Assert.All(ids, g => Assert.Single(g.Select(e => e.Uri).Distinct()));
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(why));
            }
        }
        else
        {
            Assert.False(string.IsNullOrEmpty(error));
        }
    }

    [Fact]
    public void RandomStrings_NeverThrow()
        => Gen.String[0, 400].Sample(Check, iter: 3000);

    [Fact]
    public void RandomSdpLikeLines_NeverThrow()
    {
        var line = Gen.OneOf(
            Gen.Const("v=0"), Gen.Const("o=- 1 1 IN IP4 0.0.0.0"), Gen.Const("s=-"), Gen.Const("t=0 0"),
            Gen.Const("m=video 9 UDP/TLS/RTP/SAVPF 96 97"), Gen.Const("m=application 9 UDP/DTLS/SCTP webrtc-datachannel"),
            Gen.Const("a=mid:1"), Gen.Const("a=ice-ufrag:u"), Gen.Const("a=ice-pwd:p"), Gen.Const("a=group:BUNDLE 1 0 1"),
            Gen.Const("a=fingerprint:sha-256 AA:BB"), Gen.Const("a=rtpmap:96 VP8/90000"), Gen.Const("a=rtpmap:97 rtx/90000"),
            Gen.Const("a=fmtp:97 apt=96"), Gen.Const("a=fmtp:97 apt=97"), Gen.Const("a=rtcp-fb:* nack"), Gen.Const("a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid"),
            Gen.Const("a=extmap:1 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"), Gen.Const("a=rid:h send pt=96"),
            Gen.Const("a=simulcast:send h;~m recv x"), Gen.Const("a=setup:passive"), Gen.Const("a=recvonly"),
            Gen.String[0, 30].Select(s => "a=" + s), Gen.String[0, 30]);
        line.Array[0, 40].Select(lines => string.Join("\r\n", lines) + "\r\n").Sample(Check, iter: 3000);
    }

    private static readonly Gen<string> Mutated = MutationsOf(SdpSamples.All);

    private static Gen<string> MutationsOf(IReadOnlyList<string> samples) =>
        Gen.Int[0, samples.Count - 1].SelectMany(i =>
        {
            string s = samples[i];
            return Gen.Int[0, 5].SelectMany(op => Gen.Int[0, s.Length - 1].SelectMany(pos => Gen.Int[1, 40].SelectMany(len =>
                Gen.String[0, 12].Select(ins =>
                {
                    len = Math.Min(len, s.Length - pos);
                    var lines = s.Split("\r\n");
                    int li = pos % lines.Length;
                    return op switch
                    {
                        0 => s[..pos],                                             // truncate
                        1 => s.Remove(pos, len),                                   // delete a span
                        2 => s.Insert(pos, ins),                                   // insert random text
                        3 => string.Join("\r\n", lines.Where((_, k) => k != li)),  // drop a line
                        4 => string.Join("\r\n", lines.Take(li + 1).Concat(lines.Skip(li))), // duplicate a line
                        _ => s[..pos] + (char)(' ' + len) + s[(pos + 1)..],        // replace one character
                    };
                }))));
        });

    [Fact]
    public void MutatedRealOffers_NeverThrow() => Mutated.Sample(Check, iter: 4000);

    [Fact]
    public void MutatedRealOffers_MostlyStillAnswerable()
    {
        // Sanity check that the mutation generator exercises the answerer and not only the parser's error paths.
        int answered = 0, total = 0;
        Mutated.Sample(s =>
        {
            total++;
            if (Answerer.TryCreateAnswer(s, out _, out _)) answered++;
        }, iter: 500, threads: 1);
        Assert.True(answered > total / 4, $"{answered}/{total}");
    }

    [Fact]
    public void MutatedAnswers_ApplyWithoutThrowing()
    {
        var offer = SdpOffererTests.Offer();
        var offerer = new SdpOfferer(SdpSamples.Server());
        int applied = 0;
        MutationsOf([SdpOffererTests.BrowserAnswer()]).Sample(answer =>
        {
            if (offerer.TryApplyAnswer(offer, answer, out var session, out var error))
            {
                Assert.Equal(4, session!.Media.Count);
                Interlocked.Increment(ref applied);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
            }
        }, iter: 3000);
        Assert.True(applied > 0);
    }
}
