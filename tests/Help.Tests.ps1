# Docs are part of the code: every exported cmdlet has a complete page, and Get-Help shows it offline.
BeforeDiscovery {
    . $PSScriptRoot/common.ps1
    $script:Commands = Get-Command -Module Gryphgen -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } }
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:DocsFolder = Join-Path $RepositoryRoot 'docs/en-US'
    $script:CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters +
        [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

    function Get-DocumentedParameter([string] $Markdown) {
        [regex]::Matches($Markdown, '(?m)^### -(\S+)\s*$') | ForEach-Object { $_.Groups[1].Value }
    }
}

Describe 'Help for <Name>' -ForEach $Commands {
    BeforeAll {
        $script:PagePath = Join-Path $DocsFolder "$Name.md"
        $script:Markdown = if (Test-Path $PagePath) { Get-Content -Raw $PagePath } else { '' }
        $script:Command = Get-Command $Name
    }

    It 'has a markdown page' { $PagePath | Should -Exist }

    It 'documents every parameter' {
        $documented = Get-DocumentedParameter $Markdown
        foreach ($parameter in $Command.Parameters.Keys | Where-Object { $_ -notin $CommonParameters }) {
            $documented | Should -Contain $parameter
        }
    }

    It 'documents no parameter that does not exist' {
        foreach ($parameter in Get-DocumentedParameter $Markdown) {
            $Command.Parameters.Keys | Should -Contain $parameter
        }
    }

    It 'has no {{ }} placeholders left' { $Markdown | Should -Not -Match '\{\{.*\}\}' }

    It 'has at least two examples' {
        ([regex]::Matches($Markdown, '(?m)^### Example \d+')).Count | Should -BeGreaterOrEqual 2
    }

    It 'titles every example with what it does' {
        [regex]::Matches($Markdown, '(?m)^### Example \d+:?\s*$').Value | Should -BeNullOrEmpty -Because 'a bare "Example 1" says nothing'
    }

    It 'shows parameter types by name, never Nullable`1' {
        # An int? parameter is an Int32 to the user; the CLR's generic name in SYNTAX or PARAMETERS says nothing.
        Get-Help $Name -Full | Out-String -Width 200 | Should -Not -Match 'Nullable'
    }

    It 'is shown by Get-Help -Full with synopsis, description, parameters and examples' {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -BeLike "$Name *" -Because 'an auto-generated synopsis means the MAML was not found'
        ($help.Description.Text -join '') | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        $helpParameters = @($help.Parameters.Parameter | ForEach-Object Name)
        foreach ($parameter in $Command.Parameters.Keys | Where-Object { $_ -notin $CommonParameters }) {
            $helpParameters | Should -Contain $parameter
            ($help.Parameters.Parameter | Where-Object Name -EQ $parameter).Description.Text | Should -Not -BeNullOrEmpty
        }
    }
}

Describe 'Examples in Get-Help' {
    It 'set an example''s output apart from its code by a blank line' {
        $example = (Get-Help Receive-GryphMessage -Examples).Examples.Example | Select-Object -First 1
        $example.Code | Should -Match 'Receive-GryphMessage -Name bob\r?\n\r?\nTime +From'
    }
}

Describe 'The module manifest' {
    It 'names no made-up project address' {
        $manifest = Import-PowerShellDataFile (Join-Path $RepositoryRoot 'Gryphgen.psd1')
        $manifest.PrivateData.PSData.ProjectUri | Should -Not -Match 'example\.(invalid|com|org)'
    }
}

Describe 'About topics' {
    It 'shows about_Gryphgen' {
        (Get-Help about_Gryphgen | Out-String) | Should -Match 'Gryphgen'
    }
}
