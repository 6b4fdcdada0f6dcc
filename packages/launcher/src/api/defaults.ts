// api.Defaulter.SetObjectDefaults_Domain (pkg/virt-launcher/virtwrap/api/defaults.go): what the
// launcher fills in after conversion, independent of the cluster.
import { QEMUSchemaNamespace, type DomainSpec } from './schema.ts';

export function setObjectDefaultsDomainSpec(spec: DomainSpec, architecture: string): void {
  spec.XmlNS = QEMUSchemaNamespace;
  if (spec.Type === '') spec.Type = 'kvm';

  const ostype = spec.OS.Type;
  ostype.OS = 'hvm';
  if (ostype.Arch === '') ostype.Arch = archOSType(architecture);
  // q35 is an alias of the newest q35 machine type
  if (ostype.Machine === '') ostype.Machine = archMachine(architecture);

  if (spec.SysInfo && spec.SysInfo.Type === '') spec.SysInfo.Type = 'smbios';
}

function archOSType(architecture: string): string {
  switch (architecture) {
    case 'ppc64le':
      return 'ppc64le';
    case 'arm64':
      return 'aarch64';
    default:
      return 'x86_64';
  }
}

function archMachine(architecture: string): string {
  switch (architecture) {
    case 'ppc64le':
      return 'pseries';
    case 'arm64':
      return 'virt';
    default:
      return 'q35';
  }
}
