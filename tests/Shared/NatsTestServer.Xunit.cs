namespace Gryphgen.Tests;

/// <summary>
/// The xunit half of <see cref="NatsTestServer"/>: where nats-server is not installed, a test that starts one skips
/// with a message (a [SkippableFact]); under CI=true the start fails instead, as with the shared test data.
/// Kept apart so tests/nats.ps1 can compile NatsTestServer.cs without xunit.
/// </summary>
public sealed partial class NatsTestServer
{
    static partial void OnMissingBinary(string message) => Skip.If(true, message);
}
