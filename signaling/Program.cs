using TeleRehab.Signaling;

var app = TeleRehabApp.Create(args);
app.Run();

/// <summary>The entry point, visible to tests.</summary>
public partial class Program;
