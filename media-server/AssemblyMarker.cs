namespace TeleRehab.Media; internal static class AssemblyMarker { }
