"""From a folder of class images and class descriptions to a GZSL feature set.

``zsl extract`` (this distribution's command) runs an image backbone plugin
(``zsl_toolkit.backbones``) over an ImageFolder-style tree, embeds the class semantics
(an attribute table, or descriptions through a ``zsl_toolkit.text_encoders`` plugin) and
writes the toolkit's HDF5 store or an xlsa17-layout folder with seeded xlsa17-style splits.
"""
