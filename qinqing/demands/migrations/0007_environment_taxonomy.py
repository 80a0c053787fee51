"""The business environment's 4 classes × aspects, a default aspect per category, and each demand's aspect."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('demands', '0006_defaults_from_the_clock'),
    ]

    operations = [
        migrations.CreateModel(
            name='EnvironmentAspect',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=20, verbose_name='方面')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='排序')),
                ('active', models.BooleanField(default=True, verbose_name='启用')),
            ],
            options={
                'verbose_name': '营商环境方面',
                'verbose_name_plural': '营商环境方面',
                'ordering': ['env_class__position', 'env_class_id', 'position', 'id'],
            },
        ),
        migrations.CreateModel(
            name='EnvironmentClass',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=20, unique=True, verbose_name='大类')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='排序')),
            ],
            options={
                'verbose_name': '营商环境大类',
                'verbose_name_plural': '营商环境大类',
                'ordering': ['position', 'id'],
            },
        ),
        migrations.AddField(
            model_name='category',
            name='default_aspect',
            field=models.ForeignKey(blank=True, help_text='受理时据此建议诉求所属的营商环境方面，交办时可改', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='demands.environmentaspect', verbose_name='默认营商环境方面'),
        ),
        migrations.AddField(
            model_name='demand',
            name='aspect',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='demands', to='demands.environmentaspect', verbose_name='营商环境方面'),
        ),
        migrations.AddIndex(
            model_name='demand',
            index=models.Index(fields=['aspect', 'received_at'], name='demand_aspect_received'),
        ),
        migrations.AddField(
            model_name='environmentaspect',
            name='env_class',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='aspects', to='demands.environmentclass', verbose_name='所属大类'),
        ),
        migrations.AddConstraint(
            model_name='environmentaspect',
            constraint=models.UniqueConstraint(fields=('env_class', 'name'), name='aspect_unique_name'),
        ),
    ]
