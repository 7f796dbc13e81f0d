# Writes a platyPS 0.14-schema page in docs/en-US for each cmdlet of the built module that has none yet,
# with the syntax and parameter facts filled from the cmdlet's metadata and {{ ... }} where prose is needed.
# The help tests fail while any {{ ... }} is left, so a generated page cannot ship unfinished.
param([Parameter(Mandatory)][string] $ModuleManifest, [string] $Destination = (Join-Path $PSScriptRoot '../docs/en-US'))
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

foreach ($command in Get-Command -Module Gryphgen -CommandType Cmdlet) {
    $page = Join-Path $Destination "$($command.Name).md"
    if (Test-Path $page) { continue }
    $text = [System.Text.StringBuilder]::new()
    $null = $text.AppendLine("---`nexternal help file: Gryphgen.PowerShell.dll-Help.xml`nModule Name: Gryphgen`nonline version:`nschema: 2.0.0`n---`n")
    $null = $text.AppendLine("# $($command.Name)`n`n## SYNOPSIS`n{{ Fill in the Synopsis }}`n`n## SYNTAX`n")
    foreach ($set in $command.ParameterSets) {
        $name = if ($set.IsDefault) { "$($set.Name) (Default)" } else { $set.Name }
        $syntax = ($set.ToString() -replace '\[-(\w+)\]', '[-$1]')
        $null = $text.AppendLine("### $name`n```````n$($command.Name) $syntax`n```````n")
    }
    $null = $text.AppendLine("## DESCRIPTION`n{{ Fill in the Description }}`n`n## EXAMPLES`n")
    $null = $text.AppendLine("### Example 1`n``````powershell`n{{ Add example code here }}`n```````n`n{{ Add example description here }}`n")
    $null = $text.AppendLine("## PARAMETERS`n")
    foreach ($parameter in $command.Parameters.Values | Where-Object Name -NotIn $common | Sort-Object Name) {
        $sets = @($parameter.ParameterSets.Keys)
        $attributes = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
        $first = $attributes[0]
        $pipeline = @()
        if ($attributes.ValueFromPipeline -contains $true) { $pipeline += 'ByValue' }
        if ($attributes.ValueFromPipelineByPropertyName -contains $true) { $pipeline += 'ByPropertyName' }
        $position = if ($first.Position -ge 0) { $first.Position } else { 'Named' }
        $null = $text.AppendLine("### -$($parameter.Name)`n{{ Fill $($parameter.Name) Description }}`n")
        $null = $text.AppendLine("``````yaml")
        # Get-Help shows this name: an int? parameter reads as Int32, as platyPS writes it, not Nullable`1.
        $type = [Nullable]::GetUnderlyingType($parameter.ParameterType) ?? $parameter.ParameterType
        $null = $text.AppendLine("Type: $($type.Name)")
        $null = $text.AppendLine("Parameter Sets: $(if ($sets -contains '__AllParameterSets') { '(All)' } else { $sets -join ', ' })")
        $null = $text.AppendLine("Aliases: $($parameter.Aliases -join ', ')`n")
        $null = $text.AppendLine("Required: $([bool]($attributes.Mandatory -contains $true))")
        $null = $text.AppendLine("Position: $position")
        $null = $text.AppendLine("Default value: None")
        $null = $text.AppendLine("Accept pipeline input: $(if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' })")
        $null = $text.AppendLine("Accept wildcard characters: $([bool]($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }))")
        $null = $text.AppendLine("```````n")
    }
    $null = $text.AppendLine("### CommonParameters`nThis cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, -InformationAction, -InformationVariable, -OutVariable, -OutBuffer, -PipelineVariable, -ProgressAction, -Verbose, -WarningAction, and -WarningVariable. For more information, see [about_CommonParameters](http://go.microsoft.com/fwlink/?LinkID=113216).`n")
    $null = $text.AppendLine("## INPUTS`n`n### {{ Input type }}`n`n## OUTPUTS`n")
    foreach ($type in $command.OutputType) { $null = $text.AppendLine("### $($type.Name)`n") }
    $null = $text.AppendLine("## NOTES`n`n## RELATED LINKS")
    Set-Content -Path $page -Value $text.ToString().TrimEnd() -NoNewline
    "Wrote $page"
}
