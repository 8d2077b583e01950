"""Build hook: the top-level ``firmware_profiles/`` folder goes into the wheel as
``imu_monitor/firmware_profiles/`` (``devices.profiles.PROFILE_DIR`` looks there first; a source
checkout uses the top-level folder). Everything else is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PROFILES = Path(__file__).resolve().parent / "firmware_profiles"


class BuildWithProfiles(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "imu_monitor" / "firmware_profiles"
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted(PROFILES.iterdir()):
            if f.suffix in (".toml", ".md"):
                self.copy_file(str(f), str(target / f.name))


setup(cmdclass={"build_py": BuildWithProfiles})
