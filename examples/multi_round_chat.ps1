# Replaces multi_round_chat.sh: one persistent responder (a second pwsh) keeps the conversation across rounds,
# and every reply carries its request's id. The original started a new model2 process per round and kept no state.
# With -BusUrl both sides connect to a NATS bus first (Connect-GryphBus) and the rest is the same script: the
# responder may then run on another host.
# Run: dotnet pwsh ./examples/multi_round_chat.ps1 -Rounds 5
#      dotnet pwsh ./examples/multi_round_chat.ps1 -BusUrl nats://127.0.0.1:4222
param(
    [string] $ModuleManifest = (Get-ChildItem "$PSScriptRoot/../output/Gryphgen" -Filter Gryphgen.psd1 -Recurse | Select-Object -First 1).FullName,
    [int] $Rounds = 3,
    [string] $BusUrl,
    [string] $Namespace = 'examples'
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest
if ($BusUrl) { Connect-GryphBus -Url $BusUrl -Namespace $Namespace }

$endpoints = New-GryphPipe -Name user, assistant
$responder = Start-Job -ScriptBlock {
    Import-Module $using:ModuleManifest
    $env:GRYPHGEN_PIPE_DIR = $using:env:GRYPHGEN_PIPE_DIR
    if ($using:BusUrl) { Connect-GryphBus -Url $using:BusUrl -Namespace $using:Namespace }
    $history = [System.Collections.Generic.List[string]]::new()
    Receive-GryphMessage -Name assistant -Continuous -TimeoutSeconds 60 | ForEach-Object {
        $history.Add($_.Content)
        $reply = "Round $($history.Count): I have heard $($history.Count) message(s): $($history -join ' | ')"
        Send-GryphMessage -To $_.From -From assistant -ReplyTo $_.Id -Content $reply -Metadata @{ round = $history.Count }
    }
}
try {
    foreach ($round in 1..$Rounds) {
        $request = Send-GryphMessage -To assistant -From user -Content "message $round" -PassThru
        $reply = Receive-GryphMessage -Name user -TimeoutSeconds 30
        [pscustomobject]@{
            Round        = $round
            Request      = $request.Content
            Reply        = $reply.Content
            ReplyAnswers = $reply.ReplyTo -eq $request.Id
            HistorySize  = [int] $reply.Metadata['round']
        }
    }
}
finally {
    $responder | Stop-Job
    $responder | Remove-Job -Force
    $endpoints | Remove-GryphPipe -Confirm:$false
    if ($BusUrl) { Disconnect-GryphBus }
}
