# Replaces basic_communication.sh: two endpoints, a responder in the background, one exchange, clean-up.
# Run: dotnet pwsh ./examples/basic_communication.ps1   (after ./build.ps1 -Task Build)
param(
    [string] $ModuleManifest = (Get-ChildItem "$PSScriptRoot/../output/Gryphgen" -Filter Gryphgen.psd1 -Recurse | Select-Object -First 1).FullName,
    [string] $Message = 'Hello from alice'
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest

$endpoints = New-GryphPipe -Name alice, bob
try {
    # bob answers one message in a separate process, replying to the sender with ReplyTo set.
    $bob = Start-Job -ScriptBlock {
        Import-Module $using:ModuleManifest
        $env:GRYPHGEN_PIPE_DIR = $using:env:GRYPHGEN_PIPE_DIR
        $request = Receive-GryphMessage -Name bob -TimeoutSeconds 30
        Send-GryphMessage -To $request.From -From bob -ReplyTo $request.Id -Content "Hello from bob (you said: $($request.Content))"
    }

    $sent = Send-GryphMessage -To bob -From alice -Content $Message -PassThru
    $reply = Receive-GryphMessage -Name alice -TimeoutSeconds 30
    $bob | Wait-Job | Receive-Job
    [pscustomobject]@{
        Sent          = $sent.Content
        Reply         = $reply.Content
        ReplyAnswers  = $reply.ReplyTo -eq $sent.Id
        RoundTripMs   = [math]::Round(($reply.Timestamp - $sent.Timestamp).TotalMilliseconds, 1)
    }
}
finally {
    Get-Job | Remove-Job -Force
    $endpoints | Remove-GryphPipe -Confirm:$false
}
