param([string]$Name)
Write-Output "Hello, $Name"
