# The single module manifest: build.ps1 copies it into output/Gryphgen/<version>/ and reads
# ModuleVersion from here to version the assemblies and the package.
@{
    RootModule           = 'Gryphgen.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '4b7d3c1e-9a52-4f0e-8d7b-3f2a6c9e1d40'
    Author               = 'Gryphgen contributors'
    CompanyName          = 'Gryphgen'
    Copyright            = '(c) Gryphgen contributors. MIT License.'
    Description          = 'Find and read GGUF models, see your GPUs, learn which models fit, and wire LLM processes together over named pipes, or across machines over NATS.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @(
        'Gryphgen.Messaging.Format.ps1xml'
        'Gryphgen.Bus.Format.ps1xml'
        'Gryphgen.Gguf.Format.ps1xml'
        'Gryphgen.Gpu.Format.ps1xml'
        'Gryphgen.Fit.Format.ps1xml'
        'Gryphgen.Agents.Format.ps1xml'
    )
    CmdletsToExport      = @(
        'New-GryphPipe'
        'Get-GryphPipe'
        'Remove-GryphPipe'
        'Send-GryphMessage'
        'Receive-GryphMessage'
        'Find-GgufModel'
        'Get-GpuStatus'
        'Select-ModelForGpu'
        'Start-GryphAgent'
        'Get-GryphAgent'
        'Stop-GryphAgent'
        'Invoke-GryphChat'
        'Connect-GryphBus'
        'Disconnect-GryphBus'
        'Get-GryphBus'
        'Start-GryphBridge'
        'Get-GryphBridge'
        'Stop-GryphBridge'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('LLM', 'GGUF', 'GPU', 'llama.cpp', 'NamedPipe', 'FIFO', 'NATS', 'Linux')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            # No ProjectUri until the module has a public home: a made-up address would send users nowhere.
        }
    }
}
