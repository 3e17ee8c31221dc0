# Unix line ends
Get-Date
