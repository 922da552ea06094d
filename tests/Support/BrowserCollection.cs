namespace TeleRehab.Media.Tests.Support;

/// <summary>Browser tests run one after another: each starts a Chromium, and the machine has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserCollection
{
    public const string Name = "browser";
}
