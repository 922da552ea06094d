using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Phone;

/// <summary>The patient's phone (360 x 740, touch) and the therapist's desk (1280 x 800), in English and in Urdu: one
/// test walks a 1:1 session through its screens (preview, waiting, in call, audio + movement, ended) and checks on each
/// the layout (the remote video fills the phone, every control on screen and at least 44 x 44 CSS px), the language
/// (Urdu right to left, no English left visible) and accessibility (axe-core: no serious or critical violation);
/// screenshots of every state go to the test output (screenshots/phone/). Another joins, mutes and leaves with the
/// keyboard alone, and one runs the call on a phone slowed four times (CPU throttling).</summary>
[Collection(BrowserCollection.Name)]
public sealed class PhoneBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "test-operator-key";
    private static readonly TimeSpan DecodeWithin = TimeSpan.FromSeconds(20);
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots", "phone");

    private AppHost _host = null!;
    private HttpClient _http = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private readonly List<IBrowserContext> _contexts = [];

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync(("TeleRehab:OperatorApiKey", ApiKey), ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        _http = _host.CreateClient();
        _http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        (_playwright, _browser) = await Chromium.LaunchAsync();
        Directory.CreateDirectory(Screenshots);
    }

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts) await context.DisposeAsync();
        await _browser.DisposeAsync();
        _playwright.Dispose();
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private static BrowserNewContextOptions Phone(string locale) => new()
    {
        ViewportSize = new ViewportSize { Width = 360, Height = 740 }, IsMobile = true, HasTouch = true, DeviceScaleFactor = 1, Locale = locale,
    };

    private static BrowserNewContextOptions Desk(string locale) => new()
    {
        ViewportSize = new ViewportSize { Width = 1280, Height = 800 }, Locale = locale,
    };

    private async Task<IPage> OpenAsync(string name, BrowserNewContextOptions options, string url)
    {
        var context = await _browser.NewContextAsync(options);
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.Console += (_, message) => { if (message.Type is "error") output.WriteLine($"[{name}] {message.Text}"); };
        await page.GotoAsync(url);
        return page;
    }

    private async Task<(string Id, string Therapist, string Patient)> CreateSessionAsync(string? language, bool waitingRoom)
    {
        var urdu = language == "ur";
        var body = new Dictionary<string, object>
        {
            ["title"] = urdu ? "گھٹنے کی ورزش" : "Knee exercises", ["kind"] = "one-to-one", ["waitingRoom"] = waitingRoom,
            ["therapistName"] = urdu ? "ڈاکٹر عائشہ" : "Dr Ayesha", ["patientName"] = urdu ? "بلال" : "Bilal",
        };
        if (language is not null) body["language"] = language;
        using var response = await _http.PostAsJsonAsync("/api/sessions", body);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(201, (int)response.StatusCode);
        var links = json.GetProperty("links");
        return (json.GetProperty("id").GetString()!, links.GetProperty("therapist").GetString()!, links.GetProperty("patient").GetString()!);
    }

    private static string WithQuery(string link, string query)
    {
        var hash = link.IndexOf('#');
        var path = link[..hash];
        return $"{path}{(path.Contains('?') ? '&' : '?')}{query}{link[hash..]}";
    }

    /// <summary>For a person to look at: once every video on the page shows a picture (or after 5 s).</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        try
        {
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('video')].filter(v => v.checkVisibility() && v.srcObject)"
                + ".every(v => v.videoWidth > 0 && v.currentTime > 0.2)", null, new PageWaitForFunctionOptions { Timeout = 5_000, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            // a camera that is off: the picture as it is
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, $"{name}.png") });
    }

    private static Task WaitAsync(IPage page, string expression, int timeoutMs = 20_000) =>
        PageWait.UntilAsync(page, expression, timeoutMs: timeoutMs);

    private static Task WaitForScreenAsync(IPage page, string screen, int timeoutMs = 20_000) =>
        page.WaitForFunctionAsync("s => window.telerehab && window.telerehab.state.screen === s", screen,
            new PageWaitForFunctionOptions { Timeout = timeoutMs, PollingInterval = 100 });

    [Theory]
    [InlineData("en")]
    [InlineData("ur")]
    public async Task A_one_to_one_session_on_a_phone_walks_every_screen(string language)
    {
        var urdu = language == "ur";
        // English follows an English browser; Urdu comes from the operator's session language (the link's ?lang=ur),
        // on a browser that asks for English first: the session's language wins.
        var (_, therapistLink, patientLink) = await CreateSessionAsync(urdu ? "ur" : null, waitingRoom: true);
        var therapist = await OpenAsync("therapist", Desk("en-GB"), WithQuery(therapistLink, "autojoin=1&pose=off"));
        await WaitForScreenAsync(therapist, "call");
        var patient = await OpenAsync("patient", Phone("en-US"), WithQuery(patientLink, "pose=off"));
        var english = await CatalogueAsync(patient, "en");

        // Preview.
        await WaitAsync(patient, "() => !document.querySelector('[data-testid=join-button]').disabled");
        Assert.Equal(urdu ? "rtl" : "ltr", await patient.EvaluateAsync<string>("() => document.documentElement.dir"));
        Assert.Equal(language, await patient.EvaluateAsync<string>("() => document.documentElement.lang"));
        await AssertPhoneAsync(patient, "preview", urdu, english);
        await ScreenshotAsync(patient, $"{language}-1-preview");

        // Waiting room: its link to /check keeps the language.
        await patient.GetByTestId("join-button").TapAsync();
        await WaitForScreenAsync(patient, "waiting");
        Assert.Equal($"/check?lang={language}", await patient.GetByTestId("waiting-check-link").GetAttributeAsync("href"));
        Assert.Equal("waiting-title", await patient.EvaluateAsync<string>("() => document.activeElement?.id"));
        await AssertPhoneAsync(patient, "waiting", urdu, english);
        await ScreenshotAsync(patient, $"{language}-2-waiting");

        // In call: admitted, announced; the therapist's video fills the phone.
        await therapist.Locator("[data-testid^='admit-']").First.ClickAsync();
        await WaitForScreenAsync(patient, "call");
        var therapistId = await therapist.EvaluateAsync<string>("() => window.telerehab.state.me.participantId");
        var patientId = await patient.EvaluateAsync<string>("() => window.telerehab.state.me.participantId");
        await WaitAsync(patient, $"async () => ((await window.telerehab.inboundStats())['{therapistId}']?.framesDecoded ?? 0) > 0", (int)DecodeWithin.TotalMilliseconds);
        await WaitAsync(patient, "() => document.querySelector('[data-testid=announcer]').textContent.length > 0");
        var words = await CatalogueAsync(patient, language);
        Assert.Equal(words["join.announce.admitted"], await patient.GetByTestId("announcer").TextContentAsync());
        var share = await VisibleShareAsync(patient, $"[data-testid='tile-{therapistId}'] video");
        output.WriteLine($"{language}: the therapist's video covers {share:P0} of the phone's viewport");
        Assert.True(share >= 0.70, $"the remote video covers {share:P0} of the viewport");
        var own = await VisibleShareAsync(patient, $"[data-testid='tile-{patientId}'] video");
        Assert.InRange(own, 0.01, 0.15); // the own picture is small
        await AssertPhoneAsync(patient, "call", urdu, english);
        await ScreenshotAsync(patient, $"{language}-3-call");
        // Landscape: the same screen, every control still on it.
        await patient.SetViewportSizeAsync(740, 360);
        await AssertControlsAsync(patient, "landscape");
        Assert.True(await VisibleShareAsync(patient, $"[data-testid='tile-{therapistId}'] video") >= 0.45, "the remote video large in landscape");
        await ScreenshotAsync(patient, $"{language}-3-call-landscape");
        await patient.SetViewportSizeAsync(360, 740);
        await WaitAsync(therapist, $"async () => ((await window.telerehab.inboundStats())['{patientId}']?.framesDecoded ?? 0) > 0", (int)DecodeWithin.TotalMilliseconds);
        await AssertControlsAsync(therapist, "therapist's desk");
        Assert.Equal(8, await therapist.Locator("[data-testid=focus-angles] li").CountAsync()); // the joint angles beside the patient
        Assert.True(await therapist.GetByTestId("focus-angles").IsVisibleAsync());
        Assert.True(await VisibleShareAsync(therapist, $"[data-testid='tile-{patientId}'] video") >= 0.35, "the patient large on the therapist's desk");
        await ScreenshotAsync(therapist, $"{language}-3-call-therapist");

        // The own picture moves with the arrow keys (and by dragging).
        await patient.Locator($"[data-testid='tile-{patientId}']").FocusAsync();
        await patient.Keyboard.PressAsync("ArrowUp");
        Assert.Equal("end-top", await patient.Locator($"[data-testid='tile-{patientId}']").GetAttributeAsync("data-corner"));

        // Audio + movement: the therapist holds the patient's mode; the phone says so in plain words, and both pages show
        // the mode's badge over the patient's video.
        await therapist.GetByTestId($"hold-{patientId}").ClickAsync();
        await WaitAsync(patient, "() => window.telerehab.state.movementOnly && !document.querySelector('[data-testid=notice]').hidden");
        Assert.Equal("true", await patient.GetByTestId("movement-only-button").GetAttributeAsync("aria-pressed"));
        await WaitAsync(therapist, $"() => !document.querySelector('[data-testid=mode-badge-{patientId}]').hidden");
        // The badge sits over the patient's video, where it can be seen.
        Assert.True(await therapist.EvaluateAsync<bool>($$"""
            () => {
              const b = document.querySelector('[data-testid=mode-badge-{{patientId}}]').getBoundingClientRect();
              const v = document.querySelector('[data-testid=tile-{{patientId}}]').getBoundingClientRect();
              return b.width > 0 && b.left >= v.left && b.right <= v.right && b.top >= v.top && b.bottom <= v.bottom
                && b.left >= 0 && b.right <= innerWidth && b.top >= 0 && b.bottom <= innerHeight;
            }
            """), "the mode badge over the patient's video");
        await AssertPhoneAsync(patient, "audio + movement", urdu, english);
        await ScreenshotAsync(patient, $"{language}-4-movement");
        await ScreenshotAsync(therapist, $"{language}-4-movement-therapist");

        // Ended.
        await patient.GetByTestId("leave-button").TapAsync();
        await WaitForScreenAsync(patient, "ended");
        Assert.Equal("ended-title", await patient.EvaluateAsync<string>("() => document.activeElement?.id"));
        await AssertPhoneAsync(patient, "ended", urdu, english);
        await ScreenshotAsync(patient, $"{language}-5-ended");

        // The pre-session check and the demo page, in the language (the demo's from an Urdu browser), on the phone.
        // The check says in plain words what it found and what the session will do.
        var check = await OpenAsync("check", Phone(urdu ? "ur-PK" : "en-US"), new Uri(_host.BaseAddress, $"/check?networkMs=2000&lang={language}").ToString());
        await WaitAsync(check, "() => !document.querySelector('[data-testid=check-summary]').hidden && window.checkPage.model.state !== 'checking'", 30_000);
        var summary = await check.GetByTestId("check-summary").InnerTextAsync();
        var mode = await check.EvaluateAsync<string>("() => window.checkPage.network.mode");
        Assert.Contains(words["check.summary.cameraOk"], summary);
        Assert.Contains(words[mode switch { "video" => "check.summary.willVideo", "low video" => "check.summary.willLowVideo", _ => "check.summary.willMovement" }], summary);
        await AssertPhoneAsync(check, "check", urdu, english, scrolls: true);
        await ScreenshotAsync(check, $"{language}-check");
        var demo = await OpenAsync("demo", Phone(urdu ? "ur-PK" : "en-US"), new Uri(_host.BaseAddress, "/").ToString());
        await WaitAsync(demo, "() => !document.documentElement.classList.contains('i18n-loading') && document.querySelector('[data-language]')");
        Assert.Equal(language, await demo.EvaluateAsync<string>("() => document.documentElement.lang"));
        Assert.Equal($"/check?lang={language}", await demo.GetByTestId("check-link").GetAttributeAsync("href"));
        await AssertPhoneAsync(demo, "demo", urdu, english, scrolls: true);
        await ScreenshotAsync(demo, $"{language}-demo");
        // The switch: the other language at once, on the same page.
        var other = urdu ? "en" : "ur";
        await demo.GetByTestId($"language-{other}").TapAsync();
        await WaitAsync(demo, $"() => document.documentElement.lang === '{other}'");
        Assert.Equal(other == "ur" ? "rtl" : "ltr", await demo.EvaluateAsync<string>("() => document.documentElement.dir"));
        Assert.Equal($"/check?lang={other}", await demo.GetByTestId("check-link").GetAttributeAsync("href"));
    }

    [Fact]
    public async Task A_patient_joins_mutes_and_leaves_with_the_keyboard_alone()
    {
        var (_, therapistLink, patientLink) = await CreateSessionAsync(null, waitingRoom: false);
        var therapist = await OpenAsync("therapist", Desk("en-GB"), WithQuery(therapistLink, "autojoin=1&pose=off"));
        await WaitForScreenAsync(therapist, "call");
        var patient = await OpenAsync("patient", Desk("en-GB"), WithQuery(patientLink, "pose=off"));
        await WaitAsync(patient, "() => !document.querySelector('[data-testid=join-button]').disabled");

        await TabToAsync(patient, "join-button");
        await patient.Keyboard.PressAsync("Enter");
        await WaitForScreenAsync(patient, "call");
        // The call screen gives its first control the focus: the microphone.
        Assert.Equal("mic-button", await FocusedAsync(patient));
        Assert.Equal("Mute your microphone", await patient.GetByTestId("mic-button").GetAttributeAsync("aria-label"));
        await patient.Keyboard.PressAsync("Enter");
        Assert.Equal("true", await patient.GetByTestId("mic-button").GetAttributeAsync("aria-pressed"));
        await WaitAsync(patient, "() => document.querySelector('[data-testid=announcer]').textContent === 'Your microphone is off.'");
        var patientId = await patient.EvaluateAsync<string>("() => window.telerehab.state.me.participantId");
        await WaitAsync(therapist, $"() => window.telerehab.state.participants.get('{patientId}')?.audioMuted === true");
        await patient.Keyboard.PressAsync("Space");
        Assert.Equal("false", await patient.GetByTestId("mic-button").GetAttributeAsync("aria-pressed"));

        await TabToAsync(patient, "leave-button");
        await patient.Keyboard.PressAsync("Enter");
        await WaitForScreenAsync(patient, "ended");
        Assert.Equal("You left the session.", await patient.GetByTestId("ended-reason").TextContentAsync());
    }

    [Fact]
    public async Task The_call_works_on_a_phone_slowed_four_times_and_paints_before_the_pose_model()
    {
        var (_, therapistLink, patientLink) = await CreateSessionAsync(null, waitingRoom: false);
        var therapist = await OpenAsync("therapist", Desk("en-GB"), WithQuery(therapistLink, "autojoin=1&pose=off"));
        await WaitForScreenAsync(therapist, "call");
        var context = await _browser.NewContextAsync(Phone("en-US"));
        _contexts.Add(context);
        var patient = await context.NewPageAsync();
        var cdp = await context.NewCDPSessionAsync(patient);
        await cdp.SendAsync("Emulation.setCPUThrottlingRate", new Dictionary<string, object> { ["rate"] = 4 });
        var started = DateTime.UtcNow;
        await patient.GotoAsync(WithQuery(patientLink, "autojoin=1"));
        await WaitForScreenAsync(patient, "call", 30_000);
        var therapistId = await therapist.EvaluateAsync<string>("() => window.telerehab.state.me.participantId");
        var patientId = await patient.EvaluateAsync<string>("() => window.telerehab.state.me.participantId");
        await WaitAsync(patient, $"async () => ((await window.telerehab.inboundStats())['{therapistId}']?.framesDecoded ?? 0) > 0", 40_000);
        await WaitAsync(therapist, $"async () => ((await window.telerehab.inboundStats())['{patientId}']?.framesDecoded ?? 0) > 0", 40_000);
        output.WriteLine($"throttled phone: in call and decoding both ways after {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        await AssertControlsAsync(patient, "throttled phone");

        // The first paint came before any file of the pose model was asked for (the call never waits for it).
        var paint = await patient.EvaluateAsync<JsonElement>("""
            () => ({
              paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
              model: performance.getEntriesByType('resource').filter(r => r.name.includes('/pose-model/')).map(r => r.startTime),
            })
            """);
        Assert.Equal(JsonValueKind.Number, paint.GetProperty("paint").ValueKind);
        var firstPaint = paint.GetProperty("paint").GetDouble();
        output.WriteLine($"first contentful paint at {firstPaint:0} ms");
        Assert.All(paint.GetProperty("model").EnumerateArray(), start => Assert.True(start.GetDouble() > firstPaint,
            $"a pose model file was asked for at {start.GetDouble():0} ms, before the first paint at {firstPaint:0} ms"));
        await ScreenshotAsync(patient, "en-throttled-call");

        // The page's own JavaScript and CSS (not the vendored SignalR client, not the pose model): what the browser
        // received (transferred: headers and body as sent) and the files' size, for docs/client-web.md; and a budget.
        var weight = await patient.EvaluateAsync<JsonElement>("""
            () => {
              const own = performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
                .filter(r => r.name.startsWith(location.origin) && !r.name.includes('/vendor/') && !r.name.includes('/pose-model/'));
              const sum = (test) => own.filter(r => test(new URL(r.name).pathname)).reduce((t, r) => ({
                files: t.files + 1, transferred: t.transferred + r.transferSize, uncompressed: t.uncompressed + r.decodedBodySize }),
                { files: 0, transferred: 0, uncompressed: 0 });
              return { js: sum(p => p.endsWith('.js')), css: sum(p => p.endsWith('.css')), html: sum(p => p === '/join'),
                catalogue: sum(p => p.startsWith('/i18n/') && p.endsWith('.json')) };
            }
            """);
        output.WriteLine($"the call page's own files: {weight}");
        var js = weight.GetProperty("js");
        Assert.InRange(js.GetProperty("files").GetInt32(), 15, 40);
        Assert.InRange(js.GetProperty("uncompressed").GetInt64(), 50_000, 250_000);
        Assert.InRange(weight.GetProperty("css").GetProperty("uncompressed").GetInt64(), 2_000, 20_000);
    }

    /// <summary>A group class with its therapist and two patients (no waiting room); the links.</summary>
    private async Task<(string Therapist, string First, string Second)> CreateGroupAsync()
    {
        using var response = await _http.PostAsJsonAsync("/api/sessions", new Dictionary<string, object>
        {
            ["title"] = "Balance class", ["kind"] = "group", ["waitingRoom"] = false, ["therapistName"] = "Dr Ayesha",
        });
        Assert.Equal(201, (int)response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var id = json.GetProperty("id").GetString()!;
        async Task<string> InviteAsync(string name)
        {
            using var invite = await _http.PostAsJsonAsync($"/api/sessions/{id}/invites", new { role = "patient", displayName = name });
            Assert.Equal(201, (int)invite.StatusCode);
            return JsonDocument.Parse(await invite.Content.ReadAsStringAsync()).RootElement.GetProperty("link").GetString()!;
        }
        return (json.GetProperty("links").GetProperty("therapist").GetString()!, await InviteAsync("Bilal"), await InviteAsync("Sana"));
    }

    /// <summary>Which participant's video a page shows large: the focus tile's, the one its decoded track comes from,
    /// and whether that video shows a picture.</summary>
    private static Task<JsonElement> BigVideoAsync(IPage page) => page.EvaluateAsync<JsonElement>("""
        () => {
          const tile = document.querySelector('#tiles .tile.focus');
          const video = tile?.querySelector('video');
          const track = video?.srcObject?.getVideoTracks()[0];
          return { tile: tile?.dataset.participant ?? null, track: track ? window.telerehab.trackOwner(track.id) : null,
                   playing: !!video && video.videoWidth > 0 && video.currentTime > 0 };
        }
        """);

    private static Task WaitBigVideoAsync(IPage page, string participantId) => WaitAsync(page, $$"""
        () => {
          const video = document.querySelector('#tiles .tile.focus[data-participant="{{participantId}}"] video');
          const track = video?.srcObject?.getVideoTracks()[0];
          return !!track && window.telerehab.trackOwner(track.id) === '{{participantId}}' && video.videoWidth > 0 && video.currentTime > 0;
        }
        """);

    /// <summary>A group class on phones: the therapist's phone has every control on screen and large enough (its
    /// control bar, the controls of the patient it looks at, the waiting sheet); the therapist puts the second patient
    /// in focus, and the first patient's phone shows that patient's video large (the focus tile's decoded track is
    /// hers) over at least 70 % of the screen, until the therapist takes the focus back.</summary>
    [Fact]
    public async Task In_a_group_the_therapist_puts_a_patient_in_focus_and_the_phones_show_her_large()
    {
        var (therapistLink, firstLink, secondLink) = await CreateGroupAsync();
        var therapist = await OpenAsync("therapist", Phone("en-US"), WithQuery(therapistLink, "autojoin=1&pose=off"));
        await WaitForScreenAsync(therapist, "call");
        var first = await OpenAsync("first", Phone("en-US"), WithQuery(firstLink, "autojoin=1&pose=off"));
        var second = await OpenAsync("second", Phone("en-US"), WithQuery(secondLink, "autojoin=1&pose=off"));
        await WaitForScreenAsync(first, "call");
        await WaitForScreenAsync(second, "call");
        var therapistId = await therapist.EvaluateAsync<string>("() => window.telerehab.state.me.participantId");
        var firstId = await first.EvaluateAsync<string>("() => window.telerehab.state.me.participantId");
        var secondId = await second.EvaluateAsync<string>("() => window.telerehab.state.me.participantId");
        foreach (var (page, from) in new[] { (first, therapistId), (first, secondId), (therapist, firstId), (therapist, secondId) })
            await WaitAsync(page, $"async () => ((await window.telerehab.inboundStats())['{from}']?.framesDecoded ?? 0) > 0", (int)DecodeWithin.TotalMilliseconds);

        // Nobody in focus: each patient sees the therapist large; the therapist sees the first patient, her controls and
        // "Focus on me" (pressed) in the bar, every control on the phone's screen and at least 44 x 44.
        await WaitBigVideoAsync(first, therapistId);
        Assert.True(await VisibleShareAsync(first, $"[data-testid='tile-{therapistId}'] video") >= 0.70, "the therapist's video large at first");
        Assert.True(await therapist.GetByTestId($"focus-{firstId}").IsVisibleAsync());
        Assert.Equal("false", await therapist.GetByTestId($"focus-{firstId}").GetAttributeAsync("aria-pressed"));
        Assert.Equal("true", await therapist.GetByTestId("focus-me-button").GetAttributeAsync("aria-pressed"));
        Assert.Equal("Put in focus: Bilal, for the patients to see large", await therapist.GetByTestId($"focus-{firstId}").GetAttributeAsync("aria-label"));
        await AssertPhoneAsync(therapist, "therapist's phone in a group", false, []);
        await ScreenshotAsync(therapist, "en-group-therapist");
        await therapist.GetByTestId("panel-button").TapAsync();
        await AssertControlsAsync(therapist, "therapist's phone in a group, the waiting sheet open", covered: true);
        await ScreenshotAsync(therapist, "en-group-therapist-sheet");
        await therapist.GetByTestId("panel-button").TapAsync();
        await AssertControlsAsync(first, "patient's phone in a group");

        // The therapist looks at the second patient (a tap on her picture) and puts her in focus.
        await therapist.Locator($"[data-testid='tile-{secondId}'] video").TapAsync();
        await therapist.GetByTestId($"focus-{secondId}").TapAsync();
        await WaitAsync(therapist, $"() => document.querySelector('[data-testid=focus-{secondId}]').getAttribute('aria-pressed') === 'true'");
        Assert.Equal("false", await therapist.GetByTestId("focus-me-button").GetAttributeAsync("aria-pressed"));
        await AssertControlsAsync(therapist, "therapist's phone, the second patient in focus");

        // The first patient's phone: the second patient's video large (its decoded track is hers), 70 % of the screen;
        // the second patient keeps seeing the therapist (her own picture stays small).
        await WaitBigVideoAsync(first, secondId);
        var share = await VisibleShareAsync(first, $"[data-testid='tile-{secondId}'] video");
        output.WriteLine($"the focused patient's video covers {share:P0} of the first patient's phone");
        Assert.True(share >= 0.70, $"the focused patient's video covers {share:P0} of the viewport");
        await WaitAsync(first, "() => document.querySelector('[data-testid=announcer]').textContent === 'Sana is now shown large.'");
        Assert.Equal(therapistId, (await BigVideoAsync(second)).GetProperty("tile").GetString());
        await AssertPhoneAsync(first, "patient's phone, another patient in focus", false, []);
        await ScreenshotAsync(first, "en-group-focus");

        // "Focus on me": the therapist's video is the large one again.
        await therapist.GetByTestId("focus-me-button").TapAsync();
        await WaitBigVideoAsync(first, therapistId);
        Assert.True(await VisibleShareAsync(first, $"[data-testid='tile-{therapistId}'] video") >= 0.70, "the therapist's video large again");
        // The therapist's page marks its buttons when FocusChanged reaches it, which may be after the patient's page.
        await WaitAsync(therapist, $"() => document.querySelector('[data-testid=focus-me-button]').getAttribute('aria-pressed') === 'true'"
            + $" && document.querySelector('[data-testid=\"focus-{secondId}\"]').getAttribute('aria-pressed') === 'false'");
    }

    /// <summary>A refusal of the server on an Urdu page is said in Urdu (the catalogue's words for its code), with no
    /// English left on the screen.</summary>
    [Fact]
    public async Task A_refusal_from_the_server_shows_in_urdu_on_an_urdu_page()
    {
        var (id, _, patientLink) = await CreateSessionAsync("ur", waitingRoom: false);
        using (var ended = await _http.DeleteAsync($"/api/sessions/{id}")) Assert.True(ended.IsSuccessStatusCode, $"{ended.StatusCode}");
        var patient = await OpenAsync("patient", Phone("en-US"), WithQuery(patientLink, "autojoin=1&pose=off"));
        await WaitForScreenAsync(patient, "error");
        var urdu = await CatalogueAsync(patient, "ur");
        Assert.Equal(urdu["error.ended"], await patient.GetByTestId("join-error").TextContentAsync());
        await AssertPhoneAsync(patient, "a refusal", true, await CatalogueAsync(patient, "en"));
        await ScreenshotAsync(patient, "ur-refused");
    }

    private static async Task TabToAsync(IPage page, string testId)
    {
        for (var i = 0; i < 30; i++)
        {
            if (await FocusedAsync(page) == testId) return;
            await page.Keyboard.PressAsync("Tab");
        }
        throw new Xunit.Sdk.XunitException($"Tab never reached {testId}");
    }

    private static Task<string> FocusedAsync(IPage page) =>
        page.EvaluateAsync<string>("() => document.activeElement?.dataset?.testid ?? document.activeElement?.id ?? ''");

    private async Task<Dictionary<string, string>> CatalogueAsync(IPage page, string code)
    {
        using var http = _host.CreateClient();
        return JsonSerializer.Deserialize<Dictionary<string, string>>(await http.GetStringAsync($"/i18n/{code}.json"))!;
    }

    /// <summary>The share of the viewport that the element covers (its box clipped to the viewport and to its tile).</summary>
    private static Task<double> VisibleShareAsync(IPage page, string selector) => page.EvaluateAsync<double>("""
        selector => {
          const element = document.querySelector(selector);
          const box = element.getBoundingClientRect();
          const clip = element.closest('.tile').getBoundingClientRect();
          const left = Math.max(box.left, clip.left, 0), right = Math.min(box.right, clip.right, innerWidth);
          const top = Math.max(box.top, clip.top, 0), bottom = Math.min(box.bottom, clip.bottom, innerHeight);
          return Math.max(0, right - left) * Math.max(0, bottom - top) / (innerWidth * innerHeight);
        }
        """, selector);

    /// <summary>Every visible control (button, link, select) lies within the viewport and is at least 44 x 44 CSS px
    /// (a link inside a sentence is exempt from the size, as WCAG 2.5.8 allows), and nothing else lies over its middle
    /// (unless a sheet the person opened covers it: <paramref name="covered"/>). On a page that scrolls (the check,
    /// the demo) a control may lie below the fold, but never beside the screen.</summary>
    private async Task AssertControlsAsync(IPage page, string where, bool scrolls = false, bool covered = false)
    {
        if (!covered)
        {
            var hidden = await page.EvaluateAsync<string[]>("""
                () => [...document.querySelectorAll('button, select, a[href]')]
                  .filter(e => e.checkVisibility() && e.getClientRects().length)
                  .map(e => ({ e, r: e.getBoundingClientRect() }))
                  .filter(({ r }) => r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth)
                  .map(({ e }) => {
                    // The middle of its first box (a link that wraps has one per line; its bounding box's middle may
                    // fall between them).
                    const box = e.getClientRects()[0];
                    return { e, hit: document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2) };
                  })
                  .filter(({ e, hit }) => !hit || !(hit === e || e.contains(hit)))
                  .map(({ e, hit }) => `${e.dataset.testid ?? e.id ?? e.tagName} under ${hit?.closest('[data-testid]')?.dataset.testid ?? hit?.tagName ?? 'nothing'}`)
                """);
            Assert.True(hidden.Length == 0, $"{where}: controls covered by something else: {string.Join("; ", hidden)}");
        }
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= innerWidth"), $"{where}: the page is wider than the screen");
        var bad = await page.EvaluateAsync<string[]>("""
            scrolls => [...document.querySelectorAll('button, select, a[href], [tabindex="0"]')]
              .filter(e => e.checkVisibility() && e.getClientRects().length)
              .map(e => ({ e, r: e.getBoundingClientRect() }))
              .filter(({ e, r }) => r.left < -0.5 || r.right > innerWidth + 0.5 || (!scrolls && (r.top < -0.5 || r.bottom > innerHeight + 0.5))
                || (e.tagName !== 'A' && (r.width < 44 || r.height < 44)))
              .map(({ e, r }) => `${e.dataset.testid ?? e.id ?? e.tagName} ${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}`)
            """, scrolls);
        Assert.True(bad.Length == 0, $"{where}: controls off screen or smaller than 44 x 44: {string.Join("; ", bad)}");
    }

    /// <summary>On the phone: the controls, the language (Urdu: no English message of the catalogue, nor any Latin word
    /// but the session's data, left in the visible text), and axe-core's serious and critical violations.</summary>
    private async Task AssertPhoneAsync(IPage page, string state, bool urdu, Dictionary<string, string> english, bool scrolls = false)
    {
        await AssertControlsAsync(page, state, scrolls);
        if (urdu)
        {
            var visible = await page.EvaluateAsync<string>("""
                () => {
                  const texts = [];
                  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    const parent = node.parentElement;
                    if (parent && parent.checkVisibility({ visibilityProperty: true }) && node.textContent.trim()) texts.push(node.textContent.trim());
                  }
                  for (const e of document.querySelectorAll('[aria-label]')) if (e.checkVisibility()) texts.push(e.getAttribute('aria-label'));
                  return texts.join('\n');
                }
                """);
            foreach (var (key, text) in english)
            {
                if (key.StartsWith("language.", StringComparison.Ordinal)) continue;
                foreach (var part in text.Split(['{', '}'], StringSplitOptions.RemoveEmptyEntries))
                {
                    if (part.Count(char.IsAsciiLetter) < 4) continue; // "{value} MB", "{joint} –": no sentence
                    Assert.False(visible.Contains(part.Trim(), StringComparison.Ordinal), $"{state}: English \"{part.Trim()}\" ({key}) is visible");
                }
            }
            // The session's own data (names, title) are Urdu here; the English name of the language in the switch is
            // the one Latin word allowed.
            var latin = System.Text.RegularExpressions.Regex.Matches(visible, "[A-Za-z]{3,}").Select(m => m.Value).Where(w => w != "English").ToList();
            Assert.True(latin.Count == 0, $"{state}: Latin words visible in Urdu: {string.Join(", ", latin)}");
        }
        var axe = await AxeAsync(page);
        Assert.True(axe.Count == 0, $"{state}: axe-core: {string.Join("; ", axe)}");
    }

    private static string? _axeSource;

    /// <summary>axe-core's serious and critical violations (WCAG 2.1 A and AA, and best practice) on the page.</summary>
    private static async Task<List<string>> AxeAsync(IPage page)
    {
        _axeSource ??= await File.ReadAllTextAsync(AxeScript());
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'")) await page.EvaluateAsync(_axeSource);
        var violations = await page.EvaluateAsync<JsonElement>("""
            async () => (await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }))
              .violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)
            """);
        return violations.EnumerateArray().Select(v => v.GetString()!).ToList();
    }

    /// <summary>tests/Phone/axe's axe-core (installed by scripts/install-test-deps.sh, not copied to bin).</summary>
    private static string AxeScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Phone", "axe", "node_modules", "axe-core", "axe.min.js");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("axe-core is not installed: run scripts/install-test-deps.sh (npm install in tests/Phone/axe).");
    }
}
